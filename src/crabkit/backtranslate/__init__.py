"""Back-translation by rules: constraints a response already satisfies (the LLM stage is crabkit.llmstage)."""
