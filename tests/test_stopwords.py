"""The stopword list is a data file of crabkit's own: no compiled package is needed for it."""

from __future__ import annotations

import subprocess
import sys


def test_stopwords_come_from_the_bundled_list_without_yake():
    code = (
        "import sys; from crabkit.constraints.keywords import stopwords; s = stopwords(); "
        "print(len(s), 'the' in s, 'river' in s, 'yake_rust' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["574", "True", "False", "False"]


def test_stopwords_are_lower_case_words_one_a_line():
    from crabkit.constraints.keywords import stopwords

    assert all(w == w.lower() and w.strip() == w and " " not in w for w in stopwords())
