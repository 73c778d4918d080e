"""
======================================================
Sparse text classification: L1 against L2
======================================================

Text turns into very wide, very sparse matrices: one column per word (or
per hashed word), a few non-zero entries per document.
:class:`~sksoftmax.SoftmaxSGDClassifier` trains on SciPy CSR matrices
without densifying them, so a
:class:`~sklearn.feature_extraction.text.HashingVectorizer` can feed it
directly, with no vocabulary to fit or keep.

This example classifies a generated corpus into four topics and compares
the two penalties: L2 shrinks every weight a little, L1 sets most of them
to exactly zero and keeps the words that matter.
"""

# %%
# A generated corpus
# ------------------
#
# Each document mixes common words (most of its text) with words of its
# topic, a few words of other topics, and words that two topics share
# ("score" is sports and music, "heat" science and cooking). Word
# frequencies fall off as in real text (Zipf's law).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.model_selection import train_test_split

from sksoftmax import SoftmaxSGDClassifier

TOPICS = {
    "sports": "goal team match coach league season player referee stadium "
    "penalty striker tournament victory defender trophy",
    "science": "atom molecule experiment theory physics cell gene laboratory "
    "hypothesis telescope electron protein quantum galaxy data",
    "cooking": "recipe oven flour garlic butter simmer sauce onion bake pepper "
    "dough spice roast kitchen salad",
    "music": "melody guitar chord concert album rhythm piano singer band "
    "orchestra tempo drum lyrics jazz song",
}
SHARED = {
    "score": ("sports", "music"),
    "record": ("sports", "music"),
    "heat": ("science", "cooking"),
    "energy": ("science", "sports"),
    "mix": ("cooking", "music"),
    "measure": ("science", "cooking"),
}
COMMON = (
    "the of and to in is was for on that with as by at from it this be are "
    "or an have not which one had but were all their they there been has more "
    "when who will would no out so what up can about into than them some time "
    "could other only new very after also made many before first well way even "
    "back any good where most through people year day just over such make "
    "because each those how then world week long great old right still little"
).split()


def zipf_choice(words, size, rng):
    """Draw words with probabilities proportional to 1 / rank."""
    weights = 1.0 / np.arange(1, len(words) + 1)
    return rng.choice(words, size=size, p=weights / weights.sum())


def make_corpus(n_documents, rng):
    names = list(TOPICS)
    topic_words = {name: words.split() for name, words in TOPICS.items()}
    for word, pair in SHARED.items():
        for name in pair:
            topic_words[name].append(word)
    documents, labels = [], rng.randint(len(names), size=n_documents)
    for label in labels:
        length = rng.randint(15, 45)
        n_topic = rng.binomial(length, 0.12)
        n_other = rng.binomial(length, 0.04)
        other = names[rng.choice([i for i in range(len(names)) if i != label])]
        words = np.concatenate(
            [
                zipf_choice(COMMON, length - n_topic - n_other, rng),
                zipf_choice(topic_words[names[label]], n_topic, rng),
                zipf_choice(topic_words[other], n_other, rng),
            ]
        )
        rng.shuffle(words)
        documents.append(" ".join(words))
    return documents, np.array(names)[labels]


documents, labels = make_corpus(4000, np.random.RandomState(0))
print(documents[0][:200], "...", f"({labels[0]})")

# %%
# Hashing the words
# -----------------
#
# :class:`~sklearn.feature_extraction.text.HashingVectorizer` maps each word
# to one of ``n_features`` columns by a hash: stateless, so it works on a
# stream and on data that never fits in memory. Rows are normalised to unit
# length, so no further scaling is needed (and centering would destroy the
# sparsity).
vectorizer = HashingVectorizer(n_features=2**12, alternate_sign=False, norm="l2")
X = vectorizer.transform(documents)
X_train, X_test, y_train, y_test = train_test_split(
    X, labels, test_size=0.5, stratify=labels, random_state=0
)
print(
    f"{X.shape[0]} documents x {X.shape[1]} hashed features, "
    f"{X.nnz / X.shape[0]:.1f} non-zero entries per document ({type(X).__name__})"
)

# %%
# L1 against L2 over a range of strengths
# ---------------------------------------
#
# For each strength, the test accuracy and the share of non-zero weights.
# Weights of hashed columns that no training document touches get no
# gradient and stay at zero under either penalty, so the share is counted
# over the columns the training data uses.
alphas = [1e-5, 1e-4, 1e-3, 3e-3, 1e-2]
used_columns = np.unique(X_train.indices)
results = {"l2": [], "l1": []}
models = {}
for penalty in results:
    for alpha in alphas:
        model = SoftmaxSGDClassifier(penalty=penalty, alpha=alpha, random_state=0)
        model.fit(X_train, y_train)
        weights = model.coef_[:, used_columns]
        results[penalty].append(
            (model.score(X_test, y_test), np.count_nonzero(weights) / weights.size)
        )
        models[penalty, alpha] = model
        accuracy, density = results[penalty][-1]
        print(
            f"{penalty}  alpha={alpha:<6g} test accuracy {accuracy:.3f}  "
            f"non-zero weights {100 * density:5.1f}%"
        )

fig, (ax_accuracy, ax_density) = plt.subplots(
    1, 2, figsize=(10, 4), layout="constrained"
)
for penalty, rows in results.items():
    accuracy, density = np.array(rows).T
    ax_accuracy.plot(alphas, accuracy, marker="o", label=f"penalty={penalty!r}")
    ax_density.plot(alphas, 100 * density, marker="o", label=f"penalty={penalty!r}")
ax_accuracy.set(xscale="log", xlabel="alpha", ylabel="test accuracy")
ax_density.set(
    xscale="log", xlabel="alpha", ylabel="non-zero weights (%)", ylim=(0, 105)
)
ax_accuracy.legend()
plt.show()

# %%
# L2 keeps every weight the data touches: a weak L2 penalty only scales
# them. L1 drops more and more of them as ``alpha`` grows, at first at no
# cost in accuracy, since most words (the common ones, hashed collisions)
# carry no information about the topic; too strong a penalty then removes
# informative words too.
#
# Which words survive
# -------------------
#
# Hashing forgets the words, but the words of the generator's vocabulary
# can be hashed again to find their columns. The weights of each word
# (rows) for each topic (columns), under both penalties at the same
# strength:
alpha = 3e-3
vocabulary = [word for words in TOPICS.values() for word in words.split()]
vocabulary += list(SHARED) + COMMON[:15]
word_columns = vectorizer.transform(vocabulary).indices
fig, axes = plt.subplots(1, 2, figsize=(8, 12), sharey=True, layout="constrained")
for ax, penalty in zip(axes, ["l2", "l1"]):
    model = models[penalty, alpha]
    weights = model.coef_[:, word_columns].T
    limit = np.abs(weights).max()
    image = ax.imshow(weights, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_xticks(range(len(model.classes_)), model.classes_, rotation=45)
    ax.set_title(
        f"penalty={penalty!r}, alpha={alpha:g}\n"
        f"{np.count_nonzero(weights)} of {weights.size} weights non-zero"
    )
axes[0].set_yticks(range(len(vocabulary)), vocabulary, fontsize=7)
plt.show()

# %%
# Under L1 the common words are exactly zero for every topic, and each
# topic keeps its own words (and the words it shares), with a few negative
# weights on words of the other topics. That is the appeal of L1 for text:
# a model whose non-zero weights are a readable, storable list of words.
