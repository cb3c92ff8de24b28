"""Lexical scoring: BM25 over words (jieba's for Chinese), for fusion with the dense score.

Customers' exact words (product names, "fapiao", order terms) carry signal that a
small embedding model blurs; BM25 keeps it.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

__all__ = ["BM25", "CharTfidf", "tokenize"]

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased words; Chinese is cut by jieba and also kept as character bigrams,
    which survive jieba's occasional wrong cut."""
    text = text.lower()
    if not _CJK.search(text):
        return _WORD.findall(text)
    import jieba

    jieba.setLogLevel(logging.WARNING)
    words = [w for w in jieba.lcut(text) if _WORD.fullmatch(w)]
    chars = [c for c in text if _CJK.fullmatch(c)]
    return words + [a + b for a, b in itertools.pairwise(chars)]


class BM25:
    """BM25 scores of a query against every document, from a column-sliced sparse matrix."""

    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counted: list[int] = []
        lengths: list[int] = []
        for row, text in enumerate(documents):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            for token, count in counts.items():
                rows.append(row)
                cols.append(self.vocabulary.setdefault(token, len(self.vocabulary)))
                counted.append(count)
        n = len(documents)
        tf = np.asarray(counted, dtype=np.float32)
        length = np.asarray(lengths, dtype=np.float32)
        average = float(length.mean()) if n else 1.0
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(self.vocabulary))
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        row_index = np.asarray(rows, dtype=np.int64)
        col_index = np.asarray(cols, dtype=np.int64)
        weight = idf[col_index] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length[row_index] / max(average, 1e-9)))
        self.matrix = sparse.csc_matrix((weight, (row_index, col_index)), shape=(n, len(self.vocabulary)))

    def scores(self, query: str) -> np.ndarray:
        columns = sorted({self.vocabulary[t] for t in tokenize(query) if t in self.vocabulary})
        if not columns:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        return np.asarray(self.matrix[:, columns].sum(axis=1)).ravel()

    @staticmethod
    def saturate(score: np.ndarray | float, half: float) -> np.ndarray | float:
        """Map a BM25 score to [0, 1): ``half`` maps to 0.5. Absolute, so comparable across queries."""
        return score / (score + half)


class CharTfidf:
    """Cosine of character 1-3-gram TF-IDF vectors: robust to typos and to unsegmented Chinese.

    Fitted with scikit-learn; a query is weighted here directly, since its transform()
    costs more than the whole rest of a search.
    """

    def __init__(self, documents: Sequence[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        self.matrix = vectorizer.fit_transform(documents).tocsr()
        self._analyze = vectorizer.build_analyzer()
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_.astype(np.float32)

    def _query(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(g for g in self._analyze(query) if g in self._vocabulary)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        columns = np.fromiter((self._vocabulary[g] for g in counts), dtype=np.int64, count=len(counts))
        weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self._idf[columns]
        return columns, weights / np.linalg.norm(weights)

    def scores(self, query: str, rows: np.ndarray) -> np.ndarray:
        columns, weights = self._query(query)
        if not len(columns):
            return np.zeros(len(rows), dtype=np.float32)
        dense = np.zeros(self.matrix.shape[1], dtype=np.float32)
        dense[columns] = weights
        return self.matrix[rows] @ dense
