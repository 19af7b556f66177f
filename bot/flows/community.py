"""The community's totals: households, pledges, estimated tCO2e a year, popular actions, and the
district ranking (only districts with enough households that nobody can be singled out)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot import messages as msg
from bot.content.model import Content
from bot.flows.common import district_name, next_quick, t, tap, trees_text
from bot.fmt import fmt_t
from bot.nlu.readings import Match
from bot.registry import Registry
from bot.store.pledges import CounterRow, counter_rows
from bot.turn import Ctx, Message, Turn

# Only districts with at least this many participating households are ranked, so that
# nobody in a small district can be singled out.
MIN_HOUSEHOLDS_SHOWN = 5


@dataclass
class DistrictRow:
    code: str
    households: int
    pledges: int
    kg_year: float


@dataclass
class CommunityView:
    households: int = 0
    pledges: int = 0
    kg_year: float = 0.0
    by_action: list[tuple[str, int]] = field(default_factory=list)   # most pledged first
    ranking: list[DistrictRow] = field(default_factory=list)         # only districts shown


def counter_kg(content: Content, action_id: str, row: CounterRow) -> float:
    """Estimated kg a year of one counter's pledges of an action: the default's estimate for those
    without a chosen quantity, the estimate per unit times the chosen quantities for the rest."""
    a = content.actions.get(action_id)
    if a is None or a.kg_co2e_year is None:
        return 0.0
    pledges = max(row.pledges, 0)
    if a.quantity is None:
        return a.kg_co2e_year * pledges
    quantified = min(max(row.quantified, 0), pledges)
    return a.kg_co2e_year * (pledges - quantified) + (a.kg_year(max(row.quantity_sum, 0.0)) or 0.0)


def community_of(session: Session, content: Content) -> CommunityView:
    """The community's totals from the counters (a few hundred rows, whatever the number of pledges)."""
    view = CommunityView()
    per_district: dict[str, DistrictRow] = {}
    for row in counter_rows(session):
        scope, key = row.scope, row.key
        h, p = max(row.households, 0), max(row.pledges, 0)
        if scope == "all":
            view.households, view.pledges = h, p
        elif scope == "action":
            if p:
                view.by_action.append((key, p))
            view.kg_year += counter_kg(content, key, row)
        elif scope == "district" and key:
            drow = per_district.setdefault(key, DistrictRow(key, 0, 0, 0.0))
            drow.households, drow.pledges = h, p
        elif scope == "district_action":
            code, _, action_id = key.partition(":")
            if code:
                drow = per_district.setdefault(code, DistrictRow(code, 0, 0, 0.0))
                drow.kg_year += counter_kg(content, action_id, row)
    order = list(content.actions)
    view.by_action.sort(key=lambda x: (-x[1], order.index(x[0]) if x[0] in order else 999))
    view.ranking = sorted((r for r in per_district.values() if r.households >= MIN_HOUSEHOLDS_SHOWN),
                          key=lambda r: (-r.households, -r.kg_year, r.code))
    return view


def community_stats(turn: Turn, ctx: Ctx, match: Match) -> list[Message]:
    """The community's totals, the popular actions, the district ranking, and the province's goal."""
    return community_messages(ctx)


def community_stats_tap(turn: Turn, ctx: Ctx, params: dict[str, str]) -> list[Message]:
    """The "ผลรวมชุมชน" button."""
    return community_messages(ctx)


def community_messages(ctx: Ctx) -> list[Message]:
    ctx.clear_state()
    c = ctx.content
    view = community_of(ctx.session, c)
    if view.households == 0:
        return [msg.text(t(c, "stats_empty") + "\n\n" + t(c, "goal"), quick=next_quick(ctx, "start"))]
    parts = [t(c, "stats_head", households=f"{view.households:,}", pledges=f"{view.pledges:,}",
               tonnes=fmt_t(view.kg_year / 1000))]
    trees = trees_text(c, view.kg_year)
    if trees:
        parts.append(trees)
    top = [f"{i}. {c.actions[a].title} ({n:,})" for i, (a, n) in enumerate(view.by_action[:3], 1) if a in c.actions]
    if top:
        parts.append(t(c, "stats_top") + "\n" + "\n".join(top))
    ranking_text = [f"{i}. {district_name(c, r.code)}: {r.households:,} {t(c, 'households_unit')}"
                    f" ({fmt_t(r.kg_year / 1000)} {t(c, 'tonnes_year_unit')})" for i, r in enumerate(view.ranking[:5], 1)]
    if ranking_text:
        parts.append(t(c, "stats_ranking", min=MIN_HOUSEHOLDS_SHOWN) + "\n" + "\n".join(ranking_text))
    else:
        parts.append(t(c, "stats_ranking_none", min=MIN_HOUSEHOLDS_SHOWN))
    mine = ctx.user.district_code
    if mine:
        place = next((i for i, r in enumerate(view.ranking, 1) if r.code == mine), None)
        if place is not None:
            parts.append(t(c, "stats_my_place", district=district_name(c, mine), place=place, total=len(view.ranking)))
        else:
            parts.append(t(c, "stats_my_hidden", district=district_name(c, mine), min=MIN_HOUSEHOLDS_SHOWN))
    parts.append(t(c, "stats_rule"))
    quick = next_quick(ctx, "start", "status") + [tap(c, "label.invite", "share.invite")]
    if not mine:
        quick.append(tap(c, "label.districts", "pledge.districts"))
    return [msg.text("\n\n".join(parts)), msg.text(t(c, "goal"), quick=quick)]


def register(registry: Registry) -> None:
    registry.intent(community_stats, "community_stats")
    registry.postback(community_stats_tap, "pledge.stats")
