"""Purchase lines: drawn block by block of days from the world, then given out as columns or as CSV rows."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace

import numpy as np

from bitseg.errors import InvalidInputError
from bitseg.generate import text
from bitseg.generate.catalogue import (
    BRAND_WEIGHTS,
    COLLECTION_AW,
    COLLECTION_SS,
    COLORS,
    DEPARTMENT_PRICE,
    DEPARTMENT_RETURNS,
    DEPARTMENTS,
    DIMENSION_NULL,
    HOURS,
    ORDER_SIZES,
    QUANTITIES,
    SOURCES,
    dimension_values,
    weights_of,
)
from bitseg.generate.config import BLOCK_LINES, DIMENSIONS, RETURN_SHARE
from bitseg.generate.world import BLOCK_STREAM, World, draw, random_stream


def generate_purchases(customers: int, lines: int, seed: int = 42, end: dt.date | str | None = None,
                       days: int = 730, batch_lines: int = 1_000_000) -> Iterator[dict[str, np.ndarray]]:
    """Purchase lines over ``days`` days ending at ``end``, as batches of columns.

    Lines come block by block in day order (each block's returns follow it); the concatenated stream is the
    same whatever ``batch_lines`` is. About 6.5% of the lines are returns: negative quantity and amount, the
    purchased line's customer and dimensions, an order id ``R…`` matching the ``O…`` of the purchase, and a
    later day. ``lines`` is the total, returns included.

    Columns of each batch (all of one length):
      - ``customer``: object array of str; ``order``: object array of str (``O000000001``, ``R000000001``).
      - ``day``: ``datetime64[D]``, the local day (Europe/Amsterdam).
      - ``amount``: float64 with 2 decimals, negative for returns; ``quantity``: int64, negative for returns.
      - one object array per dimension (brand, department, collection, color, season, source): str or None.

    Args:
        customers: how many customers (at least 1); must match the profiles.
        lines: how many lines in all (>= 0).
        seed: the random seed (>= 0).
        end: the last day (default: today in Europe/Amsterdam).
        days: the window length in days.
        batch_lines: the largest batch to yield.

    Yields:
        Dicts from column name to numpy array.

    >>> batch = next(generate_purchases(10, 50, seed=1, end="2026-03-14", batch_lines=20))
    >>> len(batch["customer"]), batch["day"].dtype, sorted(batch)[:3]
    (20, dtype('<M8[D]'), ['amount', 'brand', 'collection'])
    """
    if batch_lines < 1:
        raise InvalidInputError(f"batch_lines must be at least 1, not {batch_lines}")
    world = World.make(customers, seed, end, days, lines)
    return (_purchase_columns(world, batch) for batch in _rebatch(purchase_blocks(world), batch_lines))


@dataclass(frozen=True)
class Block:
    """Purchase lines of a run of days, purchases first (grouped by order, in time order), then returns."""

    customer: np.ndarray    # int64 column (0-based)
    day: np.ndarray         # int64 day offset
    second: np.ndarray      # int64 second of the local day
    cents: np.ndarray       # int64 amount in cents
    quantity: np.ndarray    # int64
    order: np.ndarray       # int64 order number; returns carry their purchase's number
    returned: np.ndarray    # bool: a return line (its order id reads R… instead of O…)
    dims: dict[str, np.ndarray]     # int16 codes per dimension, len(vocabulary) = NULL

    def __len__(self) -> int:
        return len(self.customer)

    def cut(self, low: int, high: int) -> Block:
        return replace(self, **{name: getattr(self, name)[low:high] for name in _LINE_ARRAYS},
                       dims={name: codes[low:high] for name, codes in self.dims.items()})

    @staticmethod
    def join(blocks: Sequence[Block]) -> Block:
        if len(blocks) == 1:
            return blocks[0]
        return replace(blocks[0],
                       **{name: np.concatenate([getattr(b, name) for b in blocks]) for name in _LINE_ARRAYS},
                       dims={name: np.concatenate([b.dims[name] for b in blocks]) for name in blocks[0].dims})


_LINE_ARRAYS = tuple(f.name for f in fields(Block) if f.name != "dims")


def purchase_blocks(world: World) -> Iterator[Block]:
    """The purchase lines, block by block; each block is a pure function of (world, block number)."""
    if world.lines == 0:
        return
    purchases = world.lines - round(world.lines * RETURN_SHARE)
    expected = np.cumsum(world.day_weight) / world.day_weight.sum()
    # Block boundaries and sizes follow the expected lines per day, so they never depend on a draw.
    cuts = np.searchsorted(expected * purchases, np.arange(BLOCK_LINES, purchases, BLOCK_LINES), side="left")
    edges = np.unique(np.concatenate([[0], cuts + 1, [world.days]]))
    edges = edges[edges <= world.days]
    buyers = _Buyers.of(world)
    seasons = _seasons(world)
    done_purchases = done_returns = 0
    order_base = 1
    for number, (low, high) in enumerate(itertools.pairwise(edges)):
        share = expected[high - 1]
        block_purchases = round(purchases * share) - done_purchases
        block_returns = round((world.lines - purchases) * share) - done_returns
        done_purchases += block_purchases
        done_returns += block_returns
        block = _make_block(world, random_stream(world.seed, BLOCK_STREAM, number), range(low, high),
                            block_purchases, block_returns, order_base, buyers, seasons)
        order_base = int(block.order.max(initial=order_base - 1)) + 1     # orders are numbered 1, 2, …
        yield block


def purchase_csv(world: World, block: Block) -> bytes:
    """The CSV rows (PURCHASE_COLUMNS order, no header) of a block."""
    values = {**dimension_values(), "season": _seasons(world)[0]}
    days = np.datetime_as_string(world.day(np.arange(world.days)))
    return text.csv_rows([
        text.fixed_ids(b"C", block.customer + 1, text.id_width(world.customers)),
        text.concat([text.coded([f"{d} " for d in days], block.day),
                     np.take(text.clock_matrix(), block.second, axis=0)]),
        text.cents_text(block.cents),
        text.int_text(block.quantity),
        text.order_matrix(block.order, block.returned),
        *(text.coded((*values[name], None), block.dims[name]) for name in DIMENSIONS),
    ])


def _purchase_columns(world: World, block: Block) -> dict[str, np.ndarray]:
    values = {**dimension_values(), "season": _seasons(world)[0]}
    width = text.id_width(world.customers)
    return {
        "customer": text.shared(lambda c: text.fixed_ids(b"C", c + 1, width), block.customer),
        "day": world.day(block.day),
        "amount": block.cents / 100,
        "quantity": block.quantity,
        "order": text.shared(_order_ids, block.order * 2 + block.returned),
        **{name: text.objects(values[name], block.dims[name]) for name in DIMENSIONS},
    }


def _order_ids(keys: np.ndarray) -> np.ndarray:
    """Key 2n is order On, 2n + 1 its return Rn."""
    return text.order_matrix(keys // 2, keys % 2 == 1)


def _rebatch(blocks: Iterator[Block], size: int) -> Iterator[Block]:
    """Re-cut a stream of blocks into batches of ``size`` lines (the last may be shorter)."""
    pending: list[Block] = []
    held = 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        while held >= size:
            joined = Block.join(pending)
            yield joined.cut(0, size)
            held -= size
            pending = [joined.cut(size, size + held)]
    if held:
        yield Block.join(pending)


# ── drawing a block ──────────────────────────────────────────────────────────────────────────────────────

def _seasons(world: World) -> tuple[tuple[str, ...], np.ndarray]:
    """Season names around the window, and per window day the index of its season.

    Spring/summer SSyy runs February to July, autumn/winter AWyy August to January (of yy + 1).
    """
    dates = world.day(np.arange(world.days))
    month = dates.astype("datetime64[M]").astype(np.int64)           # months since 1970-01
    season = (month - 1) // 6                                       # 0 = SS70, 1 = AW70, …
    first = int(season.min()) - 1                                   # one earlier, for last season's stock
    names = tuple(f"{'SS' if s % 2 == 0 else 'AW'}{(1970 + s // 2) % 100:02d}"
                  for s in range(first, int(season.max()) + 1))
    return names, (season - first).astype(np.int64)


@dataclass(frozen=True)
class _Buyers:
    """Who can buy on a given day: accounts that exist and have not lapsed, in proportion to their rate."""

    by_registration: np.ndarray     # customer columns, earliest account first
    cumulative: np.ndarray          # running sum of their purchase rates
    existing: np.ndarray            # per window day: how many accounts exist by then
    lapsed: np.ndarray              # per customer column: the day from which they buy no more

    @classmethod
    def of(cls, world: World) -> _Buyers:
        order = np.argsort(world.registered, kind="stable")
        existing = np.searchsorted(world.registered[order], np.arange(world.days), side="right")
        return cls(order, np.cumsum(world.weight[order]), existing, world.lapsed)

    def pick(self, rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
        """One customer column per day in ``days``."""
        picked = np.empty(len(days), np.int64)
        todo = np.arange(len(days))
        while todo.size:        # redraw those who lapsed already; customer 1 never does, so this ends
            last = self.existing[days[todo]] - 1
            target = rng.random(todo.size) * self.cumulative[last]
            rank = np.searchsorted(self.cumulative, target, side="right")
            picked[todo] = self.by_registration[np.minimum(rank, last)]
            todo = todo[self.lapsed[picked[todo]] <= days[todo]]
        return picked


def _make_block(world: World, rng: np.random.Generator, days: range, purchases: int, returns: int,
                order_base: int, buyers: _Buyers, seasons: tuple[tuple[str, ...], np.ndarray]) -> Block:
    # Orders: a day of the block (as busy as the day is), a time, a customer whose account exists, a source.
    sizes = _order_sizes(rng, purchases)
    orders = len(sizes)
    order_day = days.start + draw(rng, world.day_weight[days.start:days.stop], orders)
    order_second = draw(rng, HOURS, orders) * 3600 + rng.integers(0, 3600, size=orders)
    in_time = np.lexsort((order_second, order_day))
    order_day, order_second = order_day[in_time], order_second[in_time]
    order_customer = buyers.pick(rng, order_day)
    order_source = np.where(rng.random(orders) < 0.6, world.source[order_customer],
                            draw(rng, weights_of(SOURCES), orders))

    # Lines: the customer's favourite department and brand often, otherwise the shop's mix.
    line_order = np.repeat(np.arange(orders), sizes)
    customer = order_customer[line_order]
    day = order_day[line_order]
    n = purchases
    department = np.where(rng.random(n) < 0.55, world.department[customer],
                          draw(rng, weights_of(DEPARTMENTS), n))
    brand = np.where(rng.random(n) < 0.30, world.brand[customer], draw(rng, BRAND_WEIGHTS, n))
    season_names, day_season = seasons
    current = day_season[day]
    season = current - (rng.random(n) < 0.08)                       # some of last season's stock
    spring = np.char.startswith(np.asarray(season_names), "SS")[season]
    dims = {
        "brand": brand, "department": department,
        "collection": np.where(spring, draw(rng, COLLECTION_SS, n), draw(rng, COLLECTION_AW, n)),
        "color": draw(rng, weights_of(COLORS), n), "season": season, "source": order_source[line_order],
    }
    null_code = {**{k: len(v) for k, v in dimension_values().items()}, "season": len(season_names)}
    for name, share in DIMENSION_NULL.items():
        dims[name] = np.where(rng.random(n) < share, null_code[name], dims[name]).astype(np.int16)
    quantity = draw(rng, QUANTITIES, n) + 1
    months = world.day(day).astype("datetime64[M]").astype(np.int64) % 12
    on_sale = (months == 0) | (months == 6) | (season < current)
    cents = _line_cents(rng, department, on_sale) * quantity

    # Returns: some lines come back (all or part of the quantity) a few days later, under the order's R… id.
    chosen = _pick_returns(rng, department, day, world.days, returns)
    delay = np.minimum(1 + rng.geometric(0.12, size=orders), world.days - 1 - order_day)
    return_second = draw(rng, HOURS, orders) * 3600 + rng.integers(0, 3600, size=orders)
    bought = quantity[chosen]
    partly = (bought > 1) & (rng.random(len(chosen)) < 0.3)
    given_back = np.where(partly, rng.integers(1, np.maximum(bought, 2)), bought)
    return_order = line_order[chosen]

    def both(purchased: np.ndarray, returned: np.ndarray) -> np.ndarray:
        return np.concatenate([purchased, returned])

    return Block(
        customer=both(customer, customer[chosen]).astype(np.int64),
        day=both(day, order_day[return_order] + delay[return_order]).astype(np.int64),
        second=both(order_second[line_order], return_second[return_order]).astype(np.int64),
        cents=both(cents, -(cents[chosen] // bought) * given_back),
        quantity=both(quantity, -given_back).astype(np.int64),
        order=both(order_base + line_order, order_base + return_order).astype(np.int64),
        returned=both(np.zeros(n, bool), np.ones(len(chosen), bool)),
        dims={name: both(codes, codes[chosen]) for name, codes in dims.items()},
    )


def _order_sizes(rng: np.random.Generator, lines: int) -> np.ndarray:
    """Orders of 1–6 lines whose sizes add up to exactly ``lines``."""
    sizes = np.empty(0, np.int64)
    while sizes.sum() < lines:
        sizes = np.concatenate([sizes, draw(rng, ORDER_SIZES, int(lines / 2.1) + 16) + 1])
    ends = np.cumsum(sizes)
    orders = int(np.searchsorted(ends, lines)) + 1 if lines else 0
    sizes = sizes[:orders]
    if orders:
        sizes[-1] -= ends[orders - 1] - lines
    return sizes


def _line_cents(rng: np.random.Generator, department: np.ndarray, on_sale: np.ndarray) -> np.ndarray:
    """Unit prices in cents: shelf prices end in .95/.99/.00/.50; half the sale lines go 30–50% off."""
    n = len(department)
    shelf = np.floor(np.maximum(np.asarray(DEPARTMENT_PRICE)[department] * rng.lognormal(0.0, 0.4, n), 3.0))
    shelf += np.asarray([0.95, 0.99, 0.0, 0.5])[rng.integers(0, 4, n)]
    discount = np.where(on_sale & (rng.random(n) < 0.5), rng.choice([0.5, 0.6, 0.7], size=n), 1.0)
    return np.round(shelf * discount * 100).astype(np.int64)


def _pick_returns(rng: np.random.Generator, department: np.ndarray, day: np.ndarray, days: int,
                  returns: int) -> np.ndarray:
    """Which lines come back (sorted positions): clothes and shoes most often, none bought on the last day."""
    propensity = np.where(day < days - 1, np.asarray(DEPARTMENT_RETURNS)[department], 0.0)
    returns = min(returns, int(np.count_nonzero(propensity)))
    if not returns:
        return np.empty(0, np.int64)
    # Weighted sampling without replacement in one pass: the smallest Exp(1) / weight keys win.
    keys = rng.exponential(size=len(day)) / np.where(propensity > 0, propensity, np.nan)
    keys = np.nan_to_num(keys, nan=np.inf)
    return np.sort(np.argpartition(keys, returns - 1)[:returns])
