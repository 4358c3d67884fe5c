"""Back-translation: constraints a response already satisfies (rules now, LLM in crabkit.backtranslate.llm)."""
