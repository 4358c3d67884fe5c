"""IFBench instruction types crabkit does not check, each with the reason.

A type is listed here rather than registered when its reference verifier needs a model that no
maintained package ships for offline use: a checker of our own would disagree with the reference,
and a benchmark score built on it would mean something else. Evaluation reports these types as
unscored, with the reason.
"""

from __future__ import annotations

__all__ = ["UNSUPPORTED"]

#: IFBench instruction id -> why crabkit does not check it.
UNSUPPORTED: dict[str, str] = {
    "words:start_verb": (
        "the reference tags the first word with NLTK's averaged perceptron tagger "
        "(averaged_perceptron_tagger_eng), whose weights are downloaded from NLTK Data at run time; "
        "no maintained PyPI package ships them, and another tagger would disagree with it"
    ),
}
