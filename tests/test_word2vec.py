"""The small word2vec model trained on data/corpus.txt: what its neighbours say, and that it is reproducible.

The notebooks claim that, in a model trained on real sentences, river, fish and
fisherman end up close together, so do hospital, post office and restaurant, and
*bank* sits between the two groups. These tests check those claims on the
computed vectors. The neighbour claims are checked for the default seed and for
two other seeds, so they describe the corpus rather than one lucky run.

Training time is printed, not asserted: run `pytest tests/test_word2vec.py -s` to see it.
"""

import itertools
import os
import subprocess
import sys
import textwrap
import time
from collections import Counter

import numpy as np
import pytest

from helpers.embeddings import (
    CONTRAST_SENTENCE,
    CORPUS_FILE,
    RIVER_CLUSTER,
    SENTENCE,
    TOWN_CLUSTER,
    read_corpus,
    tokenize,
    train_word2vec,
)

# Neighbours are looked for among "content words": words seen at least
# MIN_COUNT times in the corpus that are not function words. A word seen only
# once or twice gets a vector shaped by one or two sentences (noise), and
# function words ("the", "at") sit near everything. 5 is gensim's own default
# for min_count.
MIN_COUNT = 5
FUNCTION_WORDS = frozenset(
    """
    a an the this that these those some every each all any no not same other own
    i you he she it we they me him her us them my your his its our their
    is are was were be been am do does did has have had will would can could must may should
    go goes
    and or but so if then than as of to in on at by for from with without into onto
    over under up down out off about after before between near next across along around
    through towards toward until there here where when what who which how
    one two three four five six seven eight nine ten twenty hundred o'clock
    very too only just also always often never again
    """.split()
)

# Words of each sense of *bank*, as named in the corpus header (each seen >= MIN_COUNT times).
RIVER_SENSE = ("river", "fish", "fisherman", "water", "boat", "lake", "rod")
MONEY_TOWN_SENSE = (
    "money", "deposit", "cash", "loan", "account", "savings", "interest",
    "hospital", "post_office", "restaurant", "town", "street",
)  # fmt: skip

SEEDS = (1, 2, 3)  # 1 is train_word2vec's default


@pytest.fixture(scope="module")
def counts():
    return Counter(word for sentence in read_corpus() for word in sentence)


_models = {}


def trained(seed):
    """train_word2vec(seed=seed), trained once per test session."""
    if seed not in _models:
        start = time.perf_counter()
        _models[seed] = train_word2vec(seed=seed)
        print(f"\ntrain_word2vec(seed={seed}) took {time.perf_counter() - start:.2f} s")
    return _models[seed]


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def wv(request):
    return trained(request.param)


def content_neighbours(wv, word, counts, topn):
    """The `topn` content words most similar to `word` (cosine), best first."""
    candidates = [
        w for w in wv.index_to_key if w != word and w not in FUNCTION_WORDS and counts[w] >= MIN_COUNT
    ]
    sims = 1.0 - wv.distances(word, candidates)
    order = np.argsort(-sims, kind="stable")
    return [candidates[i] for i in order[:topn]]


def unit_mean(wv, words):
    return np.mean([wv.get_vector(w, norm=True) for w in words], axis=0)


def cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ----------------------------------------------------------------- the corpus


def test_corpus_is_small_plain_text_with_a_header():
    text = CORPUS_FILE.read_text(encoding="utf-8")
    assert CORPUS_FILE.stat().st_size < 60_000
    assert text.startswith("# ")
    assert "written for" in text.splitlines()[0] + text.splitlines()[1]
    assert 300 <= len(read_corpus()) <= 600


def test_corpus_uses_the_cluster_words_and_both_senses_often(counts):
    for word in RIVER_CLUSTER + TOWN_CLUSTER:
        assert counts[word] >= 40, (word, counts[word])
    for word in RIVER_SENSE + MONEY_TOWN_SENSE:
        assert counts[word] >= MIN_COUNT, (word, counts[word])
    bank_lines = [s for s in read_corpus() if "bank" in s]
    river_bank = sum(any(w in s for w in ("river", "water", "fisherman", "fish", "boat", "lake")) for s in bank_lines)
    money_bank = sum(any(w in s for w in ("money", "cash", "loan", "account", "deposit", "savings")) for s in bank_lines)
    assert river_bank >= 40 and money_bank >= 40, (river_bank, money_bank)


def test_every_word_of_the_running_sentences_has_a_vector():
    vectors = trained(1)
    for sentence in (SENTENCE, CONTRAST_SENTENCE):
        assert [w for w in tokenize(sentence) if w not in vectors.key_to_index] == []


# ------------------------------------------------------------------ read_corpus


def test_read_corpus_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(
        "# a comment\n\nThe fisherman sat on the bank.\n   \n  # an indented comment\n"
        "Mary posted a letter at the Post Office.\n",
        encoding="utf-8",
    )
    assert read_corpus(path) == [
        ["the", "fisherman", "sat", "on", "the", "bank"],
        ["mary", "posted", "a", "letter", "at", "the", "post_office"],
    ]


def test_read_corpus_of_the_real_file_joins_post_office(counts):
    lines = CORPUS_FILE.read_text(encoding="utf-8").splitlines()
    sentences = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    assert len(read_corpus()) == len(sentences)
    assert counts["post_office"] == sum(line.lower().count("post office") for line in sentences)
    assert counts["office"] == 0


# ---------------------------------------------------------------- neighbours


@pytest.mark.parametrize("cluster", [RIVER_CLUSTER, TOWN_CLUSTER], ids=["river", "town"])
def test_cluster_words_are_each_others_top3_neighbours(wv, counts, cluster):
    for word in cluster:
        top3 = content_neighbours(wv, word, counts, 3)
        partners = [w for w in cluster if w != word]
        assert all(p in top3 for p in partners), f"{word}: top 3 {top3}, expected {partners}"


@pytest.mark.parametrize(
    "cluster, other_sense",
    [(RIVER_CLUSTER, MONEY_TOWN_SENSE), (TOWN_CLUSTER, RIVER_SENSE)],
    ids=["river-vs-money/town", "town-vs-river"],
)
def test_cluster_words_are_closer_to_each_other_than_to_any_word_of_the_other_sense(wv, cluster, other_sense):
    for word in cluster:
        weakest_partner = min(wv.similarity(word, p) for p in cluster if p != word)
        others = [w for w in other_sense if w not in cluster]
        closest_other = max(others, key=lambda w: wv.similarity(word, w))
        assert weakest_partner > wv.similarity(word, closest_other), (word, closest_other)


def test_the_two_clusters_are_far_apart(wv):
    within = min(wv.similarity(a, b) for c in (RIVER_CLUSTER, TOWN_CLUSTER) for a, b in itertools.combinations(c, 2))
    across = max(wv.similarity(a, b) for a in RIVER_CLUSTER for b in TOWN_CLUSTER)
    assert within > across + 0.2, (within, across)


def test_bank_top6_has_words_of_both_senses(wv, counts):
    top6 = content_neighbours(wv, "bank", counts, 6)
    assert any(w in RIVER_SENSE for w in top6), top6
    assert any(w in MONEY_TOWN_SENSE for w in top6), top6


def test_bank_sits_between_the_two_clusters(wv):
    # bank is closer to the centre of each cluster than the two centres are to each other
    river, town, bank = unit_mean(wv, RIVER_CLUSTER), unit_mean(wv, TOWN_CLUSTER), wv.get_vector("bank", norm=True)
    apart = cos(river, town)
    assert cos(bank, river) > apart and cos(bank, town) > apart, (cos(bank, river), cos(bank, town), apart)


def test_print_neighbours_for_the_report(counts):
    vectors = trained(1)
    for word in ("river", "fish", "fisherman", "hospital", "post_office", "restaurant", "bank"):
        top = content_neighbours(vectors, word, counts, 8)
        print(f"{word:>12}: " + ", ".join(f"{w} {vectors.similarity(word, w):.2f}" for w in top))


# ---------------------------------------------------------------- determinism


def test_training_twice_in_one_process_gives_identical_vectors():
    again = train_word2vec()
    first = trained(1)
    assert again.index_to_key == first.index_to_key
    assert np.array_equal(again.vectors, first.vectors)


def test_training_in_separate_processes_gives_identical_vectors(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from helpers.embeddings import train_word2vec
        wv = train_word2vec()
        np.save(sys.argv[1], wv.vectors)
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write("\\n".join(wv.index_to_key))
        """
    )
    results = []
    for hashseed in ("0", "12345"):
        vec_file, words_file = tmp_path / f"vectors_{hashseed}.npy", tmp_path / f"words_{hashseed}.txt"
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        subprocess.run(
            [sys.executable, "-c", script, str(vec_file), str(words_file)], env=env, check=True, timeout=120
        )
        results.append((words_file.read_text(encoding="utf-8").split("\n"), np.load(vec_file)))
    here = trained(1)
    for words, vectors in results:
        assert words == here.index_to_key
        assert np.array_equal(vectors, here.vectors)
