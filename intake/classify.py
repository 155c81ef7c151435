"""Classification help (智能分类): suggest the category, urgency and kind of a report from its
text, and say why. Pure; an operator accepts or overrides the suggestion.

- Category, learned (`intake.learning`): when a model is in use, its top 3 categories of the
  taxonomy with calibrated probabilities and the terms that weighed most. The best is
  pre-filled only when its probability is at least `MIN_CONFIDENCE`; else the deepest node
  whose categories below it together reach it (学前教育 45% + 义务教育 35% → 教育 80%); else,
  or with no model, the keyword rules answer (and the model's top 3 are still shown).
- Category, keyword rules: every taxonomy node has keywords: its own name (unless it is a
  catch-all such as 其他, which says nothing about a text), the built-in hotline vocabulary
  below for each topic the node's name is about (matched by shared words, not by the exact
  name, so 劳动和社会保障 gets 劳动保障's words and 交通运输 交通出行's), and any keywords
  configured with the taxonomy. A keyword found in the title counts double. A node's score is
  the sum over its path (a leaf inherits its parents' evidence); the best score wins, ties
  going to the shallower node (claim no more than the text says).
- Urgency and kind, learned: when a model is in use for them, its top 3 with probabilities and
  reasons; its best is pre-filled at `min_confidence` or more, else the rules below answer. An
  emergency word the rules see is never overruled: the model may raise an urgency, not lower
  an emergency (a missed emergency costs more than a second look).
- Urgency, rules: emergency words (燃气泄漏, 着火, 被困 …) make it an emergency; words of
  long-standing, multi-party matters (多年, 历史遗留 …) make it complex; otherwise ordinary.
- Kind, rules: cue words for 咨询, 求助, 举报, 建议, 表扬; a complaint otherwise.
- Lead unit, learned: the units the centre finally dispatched such reports to (the text, the
  category and the address), top 3 with probabilities: a suggestion for the dispatcher, never
  pre-filled; routing's catalogue still decides dispatch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from intake.phrases import Phrases

# Built-in keywords by taxonomy node name (the last segment of a path).
KEYWORDS: Mapping[str, tuple[str, ...]] = {
    "城市管理": ("城管",),
    "市容环境": ("市容", "脏乱", "卫生死角", "乱贴", "小广告"),
    "占道经营": ("占道", "摊贩", "小贩", "摆摊", "早市", "夜市", "流动商贩", "出店经营"),
    "垃圾清运": ("垃圾", "清运", "垃圾桶", "垃圾站", "堆放"),
    "违法建设": ("违建", "违法建设", "私搭乱建", "加盖", "搭建", "违章"),
    "城乡建设": ("住建",),
    "物业管理": ("物业", "业委会", "物业公司"),
    "物业服务": ("电梯", "保洁", "物业费", "门禁", "停车费", "绿化", "维修不及时"),
    "维修资金": ("维修资金", "维修基金", "大修基金"),
    "施工扰民": ("施工", "工地", "打桩", "噪音", "扰民", "渣土车", "夜间施工"),
    "教育": ("学校", "老师", "学生"),
    "学前教育": ("幼儿园", "托育", "入园"),
    "义务教育": ("入学", "小学", "初中", "学区", "转学", "课后服务"),
    "交通出行": ("交通", "道路", "红绿灯"),
    "公交": ("公交", "公交车", "站台", "线路", "司机"),
    "道路停车": ("停车", "乱停", "车位", "占用车位", "违停"),
    "市场监管": ("商家", "市场"),
    "消费维权": ("退款", "消费", "商家", "假货", "维权", "退货"),
    "预付卡": ("预付卡", "储值卡", "会员卡", "跑路", "健身房", "办卡"),
    "劳动保障": ("社保", "劳动合同", "劳动"),
    "拖欠薪资": ("工资", "拖欠", "欠薪", "工钱", "讨薪", "农民工"),
    "公共服务": ("公共服务",),
    "供暖": ("供暖", "暖气", "不热", "室温", "采暖"),
    "水电气": ("水电气",),
    "供水": ("停水", "水压", "自来水", "水质", "供水"),
    "供电": ("停电", "电压", "供电", "跳闸"),
    "燃气": ("燃气", "天然气", "煤气", "液化气"),
}

# Node names that are catch-alls: never a keyword (…还有其他问题… is not about 其他).
CATCH_ALL = frozenset(
    {"其他", "其它", "其他类", "其他问题", "其他事项", "综合", "综合类", "其他诉求"}
)
# Two-character pieces too common in category names to tie a name to a topic.
COMMON_PIECES = frozenset({"管理", "服务", "建设", "问题", "其他", "公共", "综合", "事项", "保障"})

# Pre-fill the learned suggestion only at this probability or more (the default of
# INTAKE_SUGGESTION_MIN_CONFIDENCE, which intake passes as `min_confidence`).
MIN_CONFIDENCE = 0.6
TOP = 3  # learned candidates shown
ALL = 10_000  # ask the model for every category (to add them up per level)

EMERGENCY_WORDS = (
    "燃气泄漏",
    "煤气泄漏",
    "天然气泄漏",
    "漏气",
    "着火",
    "起火",
    "火灾",
    "冒烟",
    "被困",
    "困在",
    "困着",
    "爆炸",
    "坍塌",
    "塌了",
    "触电",
    "溺水",
    "掉进",
    "井盖丢失",
    "有人受伤",
    "生命危险",
)
COMPLEX_WORDS = ("多年", "历史遗留", "长期", "多个部门", "多部门", "反复", "一直未解决", "规划")
KIND_CUES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("praise", ("表扬", "点赞", "感谢", "致谢", "锦旗")),
    ("report", ("举报", "违法", "非法", "偷排", "黑作坊")),
    ("suggestion", ("建议", "能否增设", "希望增设", "提议")),
    ("help", ("求助", "救命", "帮帮", "被困", "救援")),
    ("consultation", ("咨询", "请问", "怎么办理", "如何办理", "是否可以", "需要什么材料")),
)


@dataclass(frozen=True)
class CategoryNode:
    path: str  # 城市管理/市容环境/占道经营
    keywords: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Candidate:
    """A learned suggestion: a label (`category`: a category path, or an urgency, a kind or a
    unit id for those models), its probability and the terms that weighed most."""

    category: str
    probability: float
    reasons: tuple[str, ...] = ()


class Model(Protocol):
    """What the suggestion needs of a learned model (`intake.learning.CategoryModel`)."""

    info: dict[str, object]

    def suggest(
        self, title: str, description: str, *, top: int = ..., explain: int = ...
    ) -> Iterable[Candidate]: ...


class ContextModel(Protocol):
    """A learned model that also reads a context beside the text (the lead unit's)."""

    info: dict[str, object]

    def suggest(
        self,
        title: str,
        description: str,
        *,
        top: int = ...,
        explain: int = ...,
        context: str = ...,
    ) -> Iterable[Candidate]: ...


@dataclass(frozen=True)
class Models:
    """The learned models in use, by what they suggest (`modelstore.all_in_use`); None: none."""

    category: Model | None = None
    urgency: Model | None = None
    kind: Model | None = None
    lead_unit: ContextModel | None = None


@dataclass(frozen=True)
class Learned:
    """What a learned model said of one field besides the category (urgency, kind, lead unit):
    its top 3, best first, and who chose the value: "model" (sure enough), "keywords" (the
    rules), or "none" (nothing is chosen: the lead unit is only suggested)."""

    source: str = "keywords"
    top: list[Candidate] = field(default_factory=list)
    model_version: str | None = None
    names: Mapping[str, str] = field(default_factory=dict)  # label → name (units' names)


@dataclass(frozen=True)
class Suggestion:
    category: str | None
    urgency: str
    kind: str
    reasons: list[str] = field(default_factory=list)
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    score: float = 0.0
    source: str = "keywords"  # "model" (pre-filled by the learned model) or "keywords"
    top: list[Candidate] = field(default_factory=list)  # the model's top 3, best first
    model_version: str | None = None
    urgency_learned: Learned = field(default_factory=Learned)
    kind_learned: Learned = field(default_factory=Learned)
    lead_unit: Learned = field(default_factory=lambda: Learned(source="none"))


def _pieces(name: str) -> set[str]:
    return {name[i : i + 2] for i in range(len(name) - 1)} - COMMON_PIECES


@lru_cache(maxsize=4096)
def vocabulary_of(name: str) -> tuple[str, ...]:
    """The built-in hotline vocabulary for a node name: its own topic's when the name is one,
    else that of every topic the name is about, i.e. that contains it, is contained in it, or
    shares a telling two-character piece with it (劳动和社会保障 ~ 劳动保障, 交通运输 ~
    交通出行); nothing for a catch-all."""
    if name in CATCH_ALL or len(name) < 2:
        return ()
    if name in KEYWORDS:
        return KEYWORDS[name]
    words: list[str] = []
    for topic, vocabulary in KEYWORDS.items():
        if topic in name or name in topic or _pieces(topic) & _pieces(name):
            words.extend(vocabulary)
    return tuple(dict.fromkeys(words))


@lru_cache(maxsize=65536)
def keywords_of(node: CategoryNode) -> tuple[str, ...]:
    """A node's own name (unless a catch-all), the built-in vocabulary of its topics, and the
    keywords configured for it."""
    own = () if node.name in CATCH_ALL else (node.name,)
    return tuple(dict.fromkeys((*own, *vocabulary_of(node.name), *node.keywords)))


def _evidence(node: CategoryNode, title: str, text: str) -> tuple[float, list[str]]:
    score, why = 0.0, []
    for word in keywords_of(node):
        if word in title:
            score += 2 * len(word)
            why.append(f"标题含“{word}”→{node.name}")
        elif word in text:
            score += len(word)
            why.append(f"内容含“{word}”→{node.name}")
    return score, why


def path_and_above(path: str) -> list[str]:
    """城市管理/市容环境/占道经营 → 城市管理, 城市管理/市容环境, 城市管理/市容环境/占道经营."""
    parts = path.split("/")
    return ["/".join(parts[: depth + 1]) for depth in range(len(parts))]


@dataclass(frozen=True)
class Taxonomy:
    """The category tree (分类目录) indexed by its keywords: a report's evidence is weighed in
    the nodes whose keywords its text holds, and scored in their subtrees, so the work grows
    with the text and its hits, not with a real catalogue's thousands of categories (every
    node's keywords looked for in every report cost 3.6 ms a report with 650 categories;
    docs/performance.md). Iterates as its nodes."""

    nodes: tuple[CategoryNode, ...]
    paths: frozenset[str]
    _by_path: Mapping[str, CategoryNode]
    _keywords: Phrases  # every node's `keywords_of`
    _having: Mapping[str, tuple[str, ...]]  # the paths of the nodes with each keyword
    _subtree: Mapping[str, tuple[str, ...]]  # each path, and the paths under it

    @classmethod
    def of(cls, nodes: Iterable[CategoryNode]) -> Taxonomy:
        if isinstance(nodes, Taxonomy):
            return nodes
        by_path = {n.path: n for n in nodes}  # a path given twice: the last one
        having: dict[str, list[str]] = {}
        subtree: dict[str, list[str]] = {}
        for path, node in by_path.items():
            for word in keywords_of(node):
                having.setdefault(word, []).append(path)
            for prefix in path_and_above(path):
                if prefix in by_path:
                    subtree.setdefault(prefix, []).append(path)
        return cls(
            nodes=tuple(by_path.values()),
            paths=frozenset(by_path),
            _by_path=by_path,
            _keywords=Phrases.of(having),
            _having={word: tuple(paths) for word, paths in having.items()},
            _subtree={path: tuple(under) for path, under in subtree.items()},
        )

    def __iter__(self) -> Iterator[CategoryNode]:
        return iter(self.nodes)

    def evidence(self, title: str, description: str) -> dict[str, tuple[float, list[str]]]:
        """Each node's keyword evidence (`_evidence`) in the report, where it has any."""
        held = self._keywords.held_in(title, description)
        hit = dict.fromkeys(path for word in held for path in self._having[word])
        return {path: _evidence(self._by_path[path], title, description) for path in hit}

    def under(self, paths: Iterable[str]) -> list[str]:
        """The paths given and every path below them."""
        return list(dict.fromkeys(q for p in paths for q in self._subtree[p]))


def suggest_category(
    title: str, description: str, taxonomy: Iterable[CategoryNode]
) -> tuple[str | None, float, list[str], list[tuple[str, float]]]:
    """The keyword rules' category, from the evidence of the nodes the report's text names."""
    tree = Taxonomy.of(taxonomy)
    own = tree.evidence(title, description)
    # No path elsewhere has any evidence of its own or above it.
    return best_scored(own, tree.under(own))


def best_scored(
    own: Mapping[str, tuple[float, list[str]]], paths: Iterable[str]
) -> tuple[str | None, float, list[str], list[tuple[str, float]]]:
    """Of `paths`, the best by its score, the sum of its own evidence and its ancestors' (`own`:
    each node's `_evidence`, keywords found, twice in the title), deepest among equals: with its
    reasons and the next three."""
    scored: list[tuple[float, int, str, list[str]]] = []
    for path in paths:
        prefixes = path_and_above(path)
        total = sum(own[p][0] for p in prefixes if p in own)
        reasons = [r for p in prefixes if p in own for r in own[p][1]]
        if total > 0:
            scored.append((total, -len(prefixes), path, reasons))
    if not scored:
        return None, 0.0, ["没有命中分类关键词，请人工选择分类"], []
    scored.sort(reverse=True)
    best = scored[0]
    alternatives = [(path, score) for score, _, path, _ in scored[1:4]]
    return best[2], best[0], best[3], alternatives


def suggest_urgency(text: str) -> tuple[str, list[str]]:
    hits = [w for w in EMERGENCY_WORDS if w in text]
    if hits:
        return "emergency", [f"含紧急词“{w}”→紧急（马上办）" for w in hits]
    hits = [w for w in COMPLEX_WORDS if w in text]
    if hits:
        return "complex", [f"含“{w}”→复杂（研究办）" for w in hits]
    return "ordinary", []


def suggest_kind(text: str) -> tuple[str, list[str]]:
    for kind, cues in KIND_CUES:
        hits = [w for w in cues if w in text]
        if hits:
            return kind, [f"含“{w}”→{KIND_NAMES[kind]}" for w in hits]
    return "complaint", []


URGENCY_NAMES = {
    "emergency": "紧急（马上办）",
    "ordinary": "一般（快速办）",
    "complex": "复杂（研究办）",
}
KIND_NAMES = {
    "consultation": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}


def learned(title: str, description: str, taxonomy: Taxonomy, model: Model) -> list[Candidate]:
    """Every category of the model that is one of the taxonomy (all of them when no taxonomy
    is loaded), most probable first; the first three with their reasons."""
    known = taxonomy.paths
    return [
        Candidate(c.category, c.probability, tuple(c.reasons))
        for c in model.suggest(title, description, top=ALL, explain=TOP)
        if not known or c.category in known
    ]


def surest_ancestor(ranked: Iterable[Candidate], min_confidence: float) -> Candidate | None:
    """When no category is sure enough, the deepest node whose categories below it together
    are: 教育 at 80% when 学前教育 has 45% and 义务教育 35% (claim no more than the text says)."""
    totals: dict[str, float] = {}
    for c in ranked:
        for path in path_and_above(c.category)[:-1]:
            totals[path] = totals.get(path, 0.0) + c.probability
    sure = [(path.count("/"), p, path) for path, p in totals.items() if p >= min_confidence]
    if not sure:
        return None
    _, probability, path = max(sure)
    return Candidate(path, round(probability, 4))


def version_of(model: Model | ContextModel | None) -> str | None:
    return str(model.info.get("version") or "") or None if model is not None else None


def choose_learned(
    model: Model | None,
    title: str,
    description: str,
    rules: tuple[str, list[str]],
    names: Mapping[str, str],
    min_confidence: float,
    *,
    floor: str | None = None,
) -> tuple[str, list[str], Learned]:
    """A field the rules can always answer (urgency, kind): the model's best when it is sure
    enough, else the rules'. `floor`: a value of the rules no model overrules (emergency)."""
    value, why = rules
    if model is None:
        return value, why, Learned()
    top = list(model.suggest(title, description, top=TOP, explain=TOP))
    version = version_of(model)
    learned_ = Learned("keywords", top, version)
    if not top:
        return value, why, learned_
    best = top[0]
    if floor is not None and value == floor and best.category != floor:
        return (
            value,
            [*why, f"紧急词优先于模型{version or ''}（{names.get(best.category, best.category)}）"],
            learned_,
        )
    if best.probability < min_confidence:
        return value, why, learned_
    because = "、".join(best.reasons)
    model_why = (
        f"模型{version or ''}：{names.get(best.category, best.category)}（{best.probability:.0%}）"
    )
    return (
        best.category,
        [model_why + (f"，依据 {because}" if because else "")],
        Learned("model", top, version),
    )


def unit_context(category: str | None, address: str | None) -> str:
    """What the lead-unit model reads beside the text: the category and the address, which
    routing's catalogue dispatches by (category × area × keywords)."""
    return "。".join(part for part in (category, address) if part)


def suggest_lead_unit(
    model: ContextModel | None,
    title: str,
    description: str,
    category: str | None,
    address: str | None,
) -> Learned:
    """The units the centre finally dispatched such reports to, top 3: a suggestion only."""
    if model is None:
        return Learned(source="none")
    top = list(
        model.suggest(
            title, description, top=TOP, explain=TOP, context=unit_context(category, address)
        )
    )
    names = model.info.get("unit_names")
    return Learned("model", top, version_of(model), names if isinstance(names, dict) else {})


def suggest(
    title: str,
    description: str,
    taxonomy: Iterable[CategoryNode],
    model: Model | Models | None = None,
    *,
    min_confidence: float = MIN_CONFIDENCE,
    category: str | None = None,
    address: str | None = None,
) -> Suggestion:
    """Category, urgency and kind for a report, each with its reasons: a model's when it is
    sure enough, else the rules' (see the module docstring); and the lead units a model
    suggests. `model` is the category model alone, or every model in use (`Models`);
    `category` (the one chosen, when there is one) and `address` help the lead-unit model."""
    models = model if isinstance(model, Models) else Models(category=model)
    text = f"{title}\n{description}"
    urgency, urgency_why, urgency_learned = choose_learned(
        models.urgency,
        title,
        description,
        suggest_urgency(text),
        URGENCY_NAMES,
        min_confidence,
        floor="emergency",
    )
    kind, kind_why, kind_learned = choose_learned(
        models.kind, title, description, suggest_kind(text), KIND_NAMES, min_confidence
    )
    found = suggest_category_of(
        title, description, Taxonomy.of(taxonomy), models.category, min_confidence
    )
    lead_unit = suggest_lead_unit(
        models.lead_unit, title, description, category or found.category, address
    )
    return Suggestion(
        category=found.category,
        urgency=urgency,
        kind=kind,
        reasons=[*found.reasons, *urgency_why, *kind_why],
        alternatives=found.alternatives,
        score=found.score,
        source=found.source,
        top=found.top,
        model_version=found.model_version,
        urgency_learned=urgency_learned,
        kind_learned=kind_learned,
        lead_unit=lead_unit,
    )


def suggest_category_of(
    title: str,
    description: str,
    nodes: Taxonomy,
    model: Model | None,
    min_confidence: float,
) -> Suggestion:
    """The category alone (urgency and kind left empty): the model's when it is sure enough,
    else the surest ancestor, else the keyword rules'."""
    ranked = learned(title, description, nodes, model) if model is not None else []
    top = ranked[:TOP]
    version = version_of(model)
    best = top[0] if top and top[0].probability >= min_confidence else None
    if best is not None:
        why = f"模型{version or ''}：{best.category}（{best.probability:.0%}），依据 " + "、".join(
            best.reasons
        )
    elif (best := surest_ancestor(ranked, min_confidence)) is not None:
        why = (
            f"模型{version or ''}：{best.category}（其下各类合计{best.probability:.0%}；"
            f"最可能的{top[0].category}仅{top[0].probability:.0%}），依据 "
            + "、".join(top[0].reasons)
        )
    if best is not None:
        return Suggestion(
            category=best.category,
            urgency="",
            kind="",
            reasons=[why],
            alternatives=[(c.category, c.probability) for c in top if c is not best],
            score=best.probability,
            source="model",
            top=top,
            model_version=version,
        )
    category, score, category_why, alternatives = suggest_category(title, description, nodes)
    if top:
        category_why = [
            f"模型把握不足（最高{top[0].probability:.0%} < {min_confidence:.0%}），按关键词规则",
            *category_why,
        ]
    return Suggestion(
        category=category,
        urgency="",
        kind="",
        reasons=category_why,
        alternatives=alternatives,
        score=score,
        top=top,
        model_version=version,
    )
