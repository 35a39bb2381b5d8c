"""The committed stubs in src/bitseg/v1 are exactly what scripts/gen_proto.sh makes from the .proto."""

from __future__ import annotations

import subprocess
from pathlib import Path

import grpc_tools

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ("__init__.py", "segments_pb2.py", "segments_pb2.pyi", "segments_pb2_grpc.py")


def test_committed_stubs_match_the_proto(tmp_path: Path) -> None:
    subprocess.run(["bash", str(ROOT / "scripts" / "gen_proto.sh"), str(tmp_path)], check=True, cwd=ROOT)
    stale = [name for name in GENERATED
             if (tmp_path / "bitseg" / "v1" / name).read_bytes() != (ROOT / "src" / "bitseg" / "v1" / name).read_bytes()]
    assert not stale, (f"stale generated stubs {stale}: run scripts/gen_proto.sh and commit the result "
                       f"(grpcio-tools {getattr(grpc_tools, '__version__', '?')})")


def test_every_rpc_of_the_spec_is_in_the_service() -> None:
    from bitseg.v1 import segments_pb2 as pb

    spec = ["CreateIndex", "DropIndex", "ListIndexes", "GetIndex", "UpsertProfiles", "AddPurchases", "DeleteCustomers", "Count", "CountBatch", "StreamMembers", "CheckMembership", "CustomerSegments", "SaveSegment", "GetSegment", "ListSegments", "DeleteSegment", "UpdateList", "GetList", "SaveTiering", "CountTiers", "GetStats", "Breakdown", "BuyersPerDay", "Values", "GetHistory", "StreamChanges", "CreateSnapshot", "ListSnapshots", "Explain", "ExplainMember", "CountCriteria", "Overlap", "WatchChanges", "GetServerInfo"]
    methods = pb.DESCRIPTOR.services_by_name["SegmentService"].methods_by_name
    assert sorted(methods) == sorted(spec)
    streams = {"UpsertProfiles": "ProfileBatch", "AddPurchases": "PurchaseBatch"}
    for name, method in methods.items():
        if name in streams:
            assert method.client_streaming and method.input_type.name == streams[name]
        elif name == "StreamMembers":
            assert method.server_streaming and method.output_type.name == "MemberChunk"
        elif not method.server_streaming:
            assert (method.input_type.name, method.output_type.name) == (f"{name}Request", f"{name}Response")
