"""Many clients counting while imports stream in: every answer is of a whole number of batches, and nobody starves."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from bitseg.server.app import Server
from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

from .conftest import channel_for

BATCHES = 40
PER_BATCH = 500   # customers per batch; each buys two lines
SCHEMA = '[profile]\nvip = "bool"\n[purchase]\nbrand = "keyword"\n'


def purchase_batches() -> Iterator[pb.PurchaseBatch]:
    for b in range(BATCHES):
        data = "".join(f"p{b}-{i},2026-03-01,10,1,o{b}-{i},B\np{b}-{i},2026-03-02,5,1,q{b}-{i},B\n"
                       for i in range(PER_BATCH))
        yield pb.PurchaseBatch(index="conc", csv=pb.CsvChunk(
            header=["customer", "time", "amount", "quantity", "order", "brand"], data=data.encode()))


def profile_batches() -> Iterator[pb.ProfileBatch]:
    for b in range(BATCHES):
        yield pb.ProfileBatch(index="conc", rows=[pb.Row(cells={"customer": f"v{b}-{i}", "vip": "true"})
                                                  for i in range(PER_BATCH)])


def test_counts_during_imports_see_whole_batches(server: Server) -> None:
    with channel_for(server) as channel:
        pb_grpc.SegmentServiceStub(channel).CreateIndex(pb.CreateIndexRequest(index="conc", schema_toml=SCHEMA))
    done = threading.Event()
    failures: list[str] = []
    answers: list[int] = []
    seen: set[int] = set()

    def counter() -> None:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            last = (0, 0, 0)
            n = 0
            while not done.is_set() or n < 5:
                results = stub.CountBatch(pb.CountBatchRequest(index="conc", queries=[
                    pb.Selection(query="purchases MATCHES (brand = 'B', count >= 2)"),
                    pb.Selection(query="purchases MATCHES (brand = 'B')"),
                    pb.Selection(query="vip = true"),
                ])).results
                buyers2, buyers, vips = (r.count for r in results)
                if buyers2 % PER_BATCH or buyers != buyers2 or vips % PER_BATCH:
                    failures.append(f"half a batch: {buyers2} {buyers} {vips}")
                if (buyers, vips) < last[1:]:
                    failures.append(f"went back: {last} then {(buyers2, buyers, vips)}")
                last = (buyers2, buyers, vips)
                seen.add(buyers)
                single = stub.Count(pb.CountRequest(index="conc", query="vip = true OR purchases MATCHES ()")).count
                if single % PER_BATCH:
                    failures.append(f"half a batch in Count: {single}")
                n += 1
            answers.append(n)

    def importer(kind: str) -> None:
        with channel_for(server) as channel:
            stub = pb_grpc.SegmentServiceStub(channel)
            if kind == "purchases":
                summary = stub.AddPurchases(purchase_batches()).summary
            else:
                summary = stub.UpsertProfiles(profile_batches()).summary
            if summary.rows_rejected:
                failures.append(f"{kind}: {summary.rejected[0]}")

    counters = [threading.Thread(target=counter) for _ in range(4)]
    importers = [threading.Thread(target=importer, args=(kind,)) for kind in ("purchases", "profiles")]
    for thread in counters + importers:
        thread.start()
    for thread in importers:
        thread.join(timeout=120)
    done.set()
    for thread in counters:
        thread.join(timeout=60)
    assert not failures, failures[:5]
    assert len(answers) == 4 and min(answers) >= 5   # every counter got answers: none was starved
    assert len(seen) > 3, seen                        # and they did look while the import was going on
    with channel_for(server) as channel:
        stub = pb_grpc.SegmentServiceStub(channel)
        info = stub.GetIndex(pb.GetIndexRequest(index="conc")).info
        assert (info.customer_count, info.line_count) == (2 * BATCHES * PER_BATCH, 2 * BATCHES * PER_BATCH)
