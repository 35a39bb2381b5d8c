"""The small fashion shop the server tests share: 6 customers (c6 only from a purchase line), 6 lines."""

from __future__ import annotations

from bitseg.v1 import segments_pb2 as pb
from bitseg.v1 import segments_pb2_grpc as pb_grpc

SCHEMA = """\
timezone = "Europe/Amsterdam"
[profile]
country = "keyword"
tags = "tags"
vip = "bool"
email = "presence"
birth_date = "date"
points = "int"
[purchase]
brand = "keyword"
color = "keyword"
"""
AS_OF = "2026-03-14"
PROFILES = [
    {"customer": "c1", "country": "NL", "tags": "app_user|newsletter", "vip": "true", "email": "a@x.nl",
     "birth_date": "1990-03-20", "points": "10"},
    {"customer": "c2", "country": "BE", "tags": "newsletter", "vip": "false", "email": "", "points": "250"},
    {"customer": "c3", "country": "NL", "vip": "", "birth_date": "1985-12-01"},
    {"customer": "c4", "country": "DE", "tags": "app_user", "email": "d@x.de"},
    {"customer": "c5"},
]
PURCHASES_CSV = (
    b"c1,2026-03-01 10:00:00,120.00,1,o1,Levi's,black\n"
    b"c1,2026-03-01 10:00:00,30.00,2,o1,Nike,\n"
    b"c2,2025-06-10,50.00,1,o2,Nike,white\n"
    b"c3,2026-02-01T09:00:00Z,400.00,1,o3,Levi's,blue\n"
    b"c3,2026-02-10,-100.00,-1,r3,Levi's,blue\n"
    b"c6,2026-03-10,15.50,1,,Zara,black\n"
)
PURCHASE_HEADER = ["customer", "time", "amount", "quantity", "order", "brand", "color"]


def load_shop(stub: pb_grpc.SegmentServiceStub, name: str = "shop") -> None:
    stub.CreateIndex(pb.CreateIndexRequest(index=name, schema_toml=SCHEMA))
    rows = [pb.Row(cells=row) for row in PROFILES]
    summary = stub.UpsertProfiles(iter([pb.ProfileBatch(index=name, rows=rows)])).summary
    assert summary.rows_rejected == 0, summary
    summary = stub.AddPurchases(iter([pb.PurchaseBatch(index=name, csv=pb.CsvChunk(
        header=PURCHASE_HEADER, data=PURCHASES_CSV, first_line=2))])).summary
    assert summary.rows_rejected == 0, summary
