"""Chinese text similarity for "same matter" (同一诉求): repeats and clusters.

The measure (pure, deterministic):
1. Segment with jieba (a private tokenizer, so other code's dictionary is untouched), with the
   hotline's own terms added (占道经营, 噪音扰民, 黑臭 …) so they stay whole.
2. Keep content words: two or more characters, not a stop word (我们, 希望, 部门, 处理 … the
   words every complaint shares), digits and punctuation dropped; map colloquial synonyms to
   one term (小贩/商贩/摆摊 → 摊贩, 噪声 → 噪音, 占道经营 → 占道, 室温 → 温度 …).
3. Weigh each word by how telling it is: (1 + log count) × its self-information in jieba's
   dictionary (log of the dictionary's total over the word's frequency + 100; the dictionary
   is already loaded for segmentation, and fixed, so a score never depends on what else is
   stored). The hotline's own words (占道, 摊贩 …, added to the tokenizer with a forced high
   frequency) count as moderately rare.
4. Score = 0.7 × the cosine of the weighted words (what the matter is) + 0.3 × the cosine of
   their character bigrams, each bigram carrying its word's weight (so 占道摆摊 and 占道经营
   still meet on 占道).

Long messages share many ordinary words by chance; weighing them by rarity is what lets one
threshold serve both a one-line SMS and a long web message. Two reports are the same matter
when they share category and area, are near each other where both have coordinates, and score
at least `INTAKE_SAME_MATTER_THRESHOLD` (`DEFAULT_THRESHOLD`, 0.40: the figures behind it are in
docs/suggestions.md). A text's vectors are computed once and cached, so comparing a report with
its candidates costs what it did.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

import jieba

# Hotline vocabulary jieba would otherwise split (占道 → 占 / 道).
DOMAIN_WORDS = (
    "占道",
    "占道经营",
    "摊贩",
    "噪音扰民",
    "施工扰民",
    "违法建设",
    "违建",
    "黑臭",
    "黑臭水体",
    "物业费",
    "维修资金",
    "拖欠工资",
    "欠薪",
    "预付卡",
    "燃气泄漏",
    "液化气",
    "电梯故障",
    "渣土车",
    "共享单车",
    "广场舞",
    "油烟",
    "排污",
    "垃圾清运",
    "停水",
    "停电",
    "供暖",
    "暖气",
    "不热",
)

SYNONYMS = {
    "小贩": "摊贩",
    "商贩": "摊贩",
    "摆摊": "摊贩",
    "流动摊贩": "摊贩",
    "摊位": "摊贩",
    "噪声": "噪音",
    "吵闹": "噪音",
    "扰民": "噪音",
    "异味": "臭味",
    "恶臭": "臭味",
    "发臭": "臭味",
    "违建": "违法建设",
    "搭建": "违法建设",
    "欠薪": "拖欠工资",
    "工钱": "工资",
    "薪水": "工资",
    "暖气": "供暖",
    "夜间": "晚上",
    "深夜": "晚上",
    "半夜": "晚上",
    "占道经营": "占道",
    "出店经营": "占道",
    "室温": "温度",
    "不热": "温度",
}

DOMAIN_WORD_FREQUENCY = 1000
DEFAULT_THRESHOLD = 0.40  # F1 on the 附件3 pairs and the hand-written paraphrases: see above
WORD_SHARE = 0.7

# Words nearly every report contains: they say nothing about which matter it is. Place words
# are here too: the place is compared as the area (and coordinates), not as text.
STOP_WORDS = frozenset(
    """
    我们 你们 他们 这个 那个 这里 那里 这些 那些 什么 怎么 为什么 没有 还是 已经 一直 现在 目前
    希望 请求 要求 恳请 请问 相关 有关 部门 领导 政府 处理 解决 尽快 及时 问题 情况 反映 投诉
    举报 咨询 建议 市民 本人 居民 群众 严重 影响 非常 特别 一个 可以 不能 无法 但是 而且 因为
    所以 如果 进行 存在 导致 造成 出现 发现 需要 能够 给予 谢谢 感谢 您好 你好 多次 每天 经常
    时间 时候 一下 一些 自己 大家 还有 以及 或者 是否 其他 地方 附近 周边 生活 正常 工作 有人
    社区 小区 号楼 单元 楼道 街道 门口 东门 西门 南门 北门 路口 对面 旁边 楼下 楼上 住户 业主
    号院 号院子 只有 今年 家里 上次 几天 任何 很大 开始 没人管 没人 又坏了
    """.split()
)

_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z]{2,}")


@cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in DOMAIN_WORDS:
        tokenizer.add_word(word, freq=200000)
    return tokenizer


def load_dictionary() -> None:
    """Load jieba's dictionary now: about a second, which the first report after a start would
    otherwise wait (with the 31 behind it)."""
    _tokenizer()


def tokens(text: str) -> list[str]:
    """jieba's words of a text with the hotline's terms kept whole: two or more characters,
    Chinese or Latin, digits and punctuation dropped, no stop list (the classifier's words)."""
    return [w for w in _tokenizer().lcut(text) if _CONTENT.fullmatch(w)]


def terms(text: str, places: Iterable[str] = ()) -> list[str]:
    """The content words of a text, synonyms unified, in order; `places` (the gazetteer's names
    and aliases) are cut out first, since the place is compared as the area."""
    for place in sorted(places, key=len, reverse=True):
        if len(place) >= 2:
            text = text.replace(place, " ")
    words = []
    for word in _tokenizer().lcut(text):
        if not _CONTENT.fullmatch(word):
            continue
        word = SYNONYMS.get(word, word)
        if word not in STOP_WORDS:
            words.append(word)
    return words


@cache
def _frequencies() -> tuple[dict[str, int], float]:
    """The word frequencies of jieba's dictionary, already in memory for segmentation."""
    tokenizer = _tokenizer()
    tokenizer.check_initialized()
    return tokenizer.FREQ, float(tokenizer.total)


_DOMAIN = frozenset(DOMAIN_WORDS)


def telling(word: str) -> float:
    """How telling a word is: its self-information in jieba's dictionary, log(total / (f +
    100)); the hotline's own words count as moderately rare (f = DOMAIN_WORD_FREQUENCY), a word
    the dictionary lacks as rarest."""
    frequencies, total = _frequencies()
    f = DOMAIN_WORD_FREQUENCY if word in _DOMAIN else frequencies.get(word, 0)
    return math.log(total / (f + 100))


@dataclass(frozen=True)
class _Vectors:
    words: dict[str, float]
    words_norm: float
    grams: dict[str, float]
    grams_norm: float


@lru_cache(maxsize=50_000)
def _vectors(terms: tuple[str, ...]) -> _Vectors:
    """A text's two weighted vectors and their norms, computed once per text: a report is
    compared with up to a few hundred stored ones, which are the same from one report to the
    next."""
    words = {w: (1 + math.log(n)) * telling(w) for w, n in Counter(terms).items()}
    grams: dict[str, float] = {}
    for word, weight in words.items():
        for i in range(len(word) - 1):
            grams[word[i : i + 2]] = grams.get(word[i : i + 2], 0.0) + weight
    return _Vectors(words, _norm(words), grams, _norm(grams))


def _norm(weights: dict[str, float]) -> float:
    return math.sqrt(sum(v * v for v in weights.values()))


def _cosine(a: dict[str, float], a_norm: float, b: dict[str, float], b_norm: float) -> float:
    if not a or not b:
        return 0.0
    if len(b) < len(a):
        a, b = b, a
    dot = sum(weight * b[key] for key, weight in a.items() if key in b)
    return dot / (a_norm * b_norm)


def similarity_of_terms(a: Sequence[str], b: Sequence[str]) -> float:
    """0 (nothing shared) … 1 (the same content words): see the module docstring."""
    x, y = _vectors(tuple(a)), _vectors(tuple(b))
    words = _cosine(x.words, x.words_norm, y.words, y.words_norm)
    grams = _cosine(x.grams, x.grams_norm, y.grams, y.grams_norm)
    return round(WORD_SHARE * words + (1 - WORD_SHARE) * grams, 4)


def haversine_metres(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance between two WGS-84 points, in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
