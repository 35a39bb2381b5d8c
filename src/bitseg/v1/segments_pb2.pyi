from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SegmentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEGMENT_KIND_UNSPECIFIED: _ClassVar[SegmentKind]
    STANDARD: _ClassVar[SegmentKind]
    TRIGGER: _ClassVar[SegmentKind]
    HOT: _ClassVar[SegmentKind]
SEGMENT_KIND_UNSPECIFIED: SegmentKind
STANDARD: SegmentKind
TRIGGER: SegmentKind
HOT: SegmentKind

class Value(_message.Message):
    __slots__ = ("text", "integer", "decimal", "boolean", "date", "relative")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    INTEGER_FIELD_NUMBER: _ClassVar[int]
    DECIMAL_FIELD_NUMBER: _ClassVar[int]
    BOOLEAN_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_FIELD_NUMBER: _ClassVar[int]
    text: str
    integer: int
    decimal: str
    boolean: bool
    date: str
    relative: RelativeDay
    def __init__(self, text: _Optional[str] = ..., integer: _Optional[int] = ..., decimal: _Optional[str] = ..., boolean: _Optional[bool] = ..., date: _Optional[str] = ..., relative: _Optional[_Union[RelativeDay, _Mapping]] = ...) -> None: ...

class RelativeDay(_message.Message):
    __slots__ = ("amount", "unit")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    amount: int
    unit: str
    def __init__(self, amount: _Optional[int] = ..., unit: _Optional[str] = ...) -> None: ...

class Expr(_message.Message):
    __slots__ = ("all", "not_expr", "and_expr", "or_expr", "compare", "between", "in_expr", "is_null", "contains", "anniversary", "in_segment", "in_list", "matches", "bucket")
    class Bucket(_message.Message):
        __slots__ = ("salt", "op", "low", "high")
        SALT_FIELD_NUMBER: _ClassVar[int]
        OP_FIELD_NUMBER: _ClassVar[int]
        LOW_FIELD_NUMBER: _ClassVar[int]
        HIGH_FIELD_NUMBER: _ClassVar[int]
        salt: str
        op: str
        low: int
        high: int
        def __init__(self, salt: _Optional[str] = ..., op: _Optional[str] = ..., low: _Optional[int] = ..., high: _Optional[int] = ...) -> None: ...
    class All(_message.Message):
        __slots__ = ()
        def __init__(self) -> None: ...
    class Not(_message.Message):
        __slots__ = ("operand",)
        OPERAND_FIELD_NUMBER: _ClassVar[int]
        operand: Expr
        def __init__(self, operand: _Optional[_Union[Expr, _Mapping]] = ...) -> None: ...
    class And(_message.Message):
        __slots__ = ("operands",)
        OPERANDS_FIELD_NUMBER: _ClassVar[int]
        operands: _containers.RepeatedCompositeFieldContainer[Expr]
        def __init__(self, operands: _Optional[_Iterable[_Union[Expr, _Mapping]]] = ...) -> None: ...
    class Or(_message.Message):
        __slots__ = ("operands",)
        OPERANDS_FIELD_NUMBER: _ClassVar[int]
        operands: _containers.RepeatedCompositeFieldContainer[Expr]
        def __init__(self, operands: _Optional[_Iterable[_Union[Expr, _Mapping]]] = ...) -> None: ...
    class Compare(_message.Message):
        __slots__ = ("field", "op", "value")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        OP_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        field: str
        op: str
        value: Value
        def __init__(self, field: _Optional[str] = ..., op: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class Between(_message.Message):
        __slots__ = ("field", "low", "high")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        LOW_FIELD_NUMBER: _ClassVar[int]
        HIGH_FIELD_NUMBER: _ClassVar[int]
        field: str
        low: Value
        high: Value
        def __init__(self, field: _Optional[str] = ..., low: _Optional[_Union[Value, _Mapping]] = ..., high: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class In(_message.Message):
        __slots__ = ("field", "values")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        VALUES_FIELD_NUMBER: _ClassVar[int]
        field: str
        values: _containers.RepeatedCompositeFieldContainer[Value]
        def __init__(self, field: _Optional[str] = ..., values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...
    class IsNull(_message.Message):
        __slots__ = ("field",)
        FIELD_FIELD_NUMBER: _ClassVar[int]
        field: str
        def __init__(self, field: _Optional[str] = ...) -> None: ...
    class Contains(_message.Message):
        __slots__ = ("field", "value")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        field: str
        value: str
        def __init__(self, field: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class Anniversary(_message.Message):
        __slots__ = ("field", "start", "end")
        FIELD_FIELD_NUMBER: _ClassVar[int]
        START_FIELD_NUMBER: _ClassVar[int]
        END_FIELD_NUMBER: _ClassVar[int]
        field: str
        start: Value
        end: Value
        def __init__(self, field: _Optional[str] = ..., start: _Optional[_Union[Value, _Mapping]] = ..., end: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class InSegment(_message.Message):
        __slots__ = ("name",)
        NAME_FIELD_NUMBER: _ClassVar[int]
        name: str
        def __init__(self, name: _Optional[str] = ...) -> None: ...
    class InList(_message.Message):
        __slots__ = ("name",)
        NAME_FIELD_NUMBER: _ClassVar[int]
        name: str
        def __init__(self, name: _Optional[str] = ...) -> None: ...
    class Matches(_message.Message):
        __slots__ = ("params",)
        PARAMS_FIELD_NUMBER: _ClassVar[int]
        params: _containers.RepeatedCompositeFieldContainer[MatchParam]
        def __init__(self, params: _Optional[_Iterable[_Union[MatchParam, _Mapping]]] = ...) -> None: ...
    ALL_FIELD_NUMBER: _ClassVar[int]
    NOT_EXPR_FIELD_NUMBER: _ClassVar[int]
    AND_EXPR_FIELD_NUMBER: _ClassVar[int]
    OR_EXPR_FIELD_NUMBER: _ClassVar[int]
    COMPARE_FIELD_NUMBER: _ClassVar[int]
    BETWEEN_FIELD_NUMBER: _ClassVar[int]
    IN_EXPR_FIELD_NUMBER: _ClassVar[int]
    IS_NULL_FIELD_NUMBER: _ClassVar[int]
    CONTAINS_FIELD_NUMBER: _ClassVar[int]
    ANNIVERSARY_FIELD_NUMBER: _ClassVar[int]
    IN_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    IN_LIST_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    all: Expr.All
    not_expr: Expr.Not
    and_expr: Expr.And
    or_expr: Expr.Or
    compare: Expr.Compare
    between: Expr.Between
    in_expr: Expr.In
    is_null: Expr.IsNull
    contains: Expr.Contains
    anniversary: Expr.Anniversary
    in_segment: Expr.InSegment
    in_list: Expr.InList
    matches: Expr.Matches
    bucket: Expr.Bucket
    def __init__(self, all: _Optional[_Union[Expr.All, _Mapping]] = ..., not_expr: _Optional[_Union[Expr.Not, _Mapping]] = ..., and_expr: _Optional[_Union[Expr.And, _Mapping]] = ..., or_expr: _Optional[_Union[Expr.Or, _Mapping]] = ..., compare: _Optional[_Union[Expr.Compare, _Mapping]] = ..., between: _Optional[_Union[Expr.Between, _Mapping]] = ..., in_expr: _Optional[_Union[Expr.In, _Mapping]] = ..., is_null: _Optional[_Union[Expr.IsNull, _Mapping]] = ..., contains: _Optional[_Union[Expr.Contains, _Mapping]] = ..., anniversary: _Optional[_Union[Expr.Anniversary, _Mapping]] = ..., in_segment: _Optional[_Union[Expr.InSegment, _Mapping]] = ..., in_list: _Optional[_Union[Expr.InList, _Mapping]] = ..., matches: _Optional[_Union[Expr.Matches, _Mapping]] = ..., bucket: _Optional[_Union[Expr.Bucket, _Mapping]] = ...) -> None: ...

class MatchParam(_message.Message):
    __slots__ = ("dim_compare", "dim_in", "dim_is_null", "date_compare", "date_between", "measure_compare")
    class DimCompare(_message.Message):
        __slots__ = ("dim", "op", "value")
        DIM_FIELD_NUMBER: _ClassVar[int]
        OP_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        dim: str
        op: str
        value: str
        def __init__(self, dim: _Optional[str] = ..., op: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class DimIn(_message.Message):
        __slots__ = ("dim", "values", "negated")
        DIM_FIELD_NUMBER: _ClassVar[int]
        VALUES_FIELD_NUMBER: _ClassVar[int]
        NEGATED_FIELD_NUMBER: _ClassVar[int]
        dim: str
        values: _containers.RepeatedScalarFieldContainer[str]
        negated: bool
        def __init__(self, dim: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ..., negated: _Optional[bool] = ...) -> None: ...
    class DimIsNull(_message.Message):
        __slots__ = ("dim", "negated")
        DIM_FIELD_NUMBER: _ClassVar[int]
        NEGATED_FIELD_NUMBER: _ClassVar[int]
        dim: str
        negated: bool
        def __init__(self, dim: _Optional[str] = ..., negated: _Optional[bool] = ...) -> None: ...
    class DateCompare(_message.Message):
        __slots__ = ("op", "value")
        OP_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        op: str
        value: Value
        def __init__(self, op: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class DateBetween(_message.Message):
        __slots__ = ("low", "high")
        LOW_FIELD_NUMBER: _ClassVar[int]
        HIGH_FIELD_NUMBER: _ClassVar[int]
        low: Value
        high: Value
        def __init__(self, low: _Optional[_Union[Value, _Mapping]] = ..., high: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    class MeasureCompare(_message.Message):
        __slots__ = ("measure", "op", "value")
        MEASURE_FIELD_NUMBER: _ClassVar[int]
        OP_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        measure: str
        op: str
        value: Value
        def __init__(self, measure: _Optional[str] = ..., op: _Optional[str] = ..., value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...
    DIM_COMPARE_FIELD_NUMBER: _ClassVar[int]
    DIM_IN_FIELD_NUMBER: _ClassVar[int]
    DIM_IS_NULL_FIELD_NUMBER: _ClassVar[int]
    DATE_COMPARE_FIELD_NUMBER: _ClassVar[int]
    DATE_BETWEEN_FIELD_NUMBER: _ClassVar[int]
    MEASURE_COMPARE_FIELD_NUMBER: _ClassVar[int]
    dim_compare: MatchParam.DimCompare
    dim_in: MatchParam.DimIn
    dim_is_null: MatchParam.DimIsNull
    date_compare: MatchParam.DateCompare
    date_between: MatchParam.DateBetween
    measure_compare: MatchParam.MeasureCompare
    def __init__(self, dim_compare: _Optional[_Union[MatchParam.DimCompare, _Mapping]] = ..., dim_in: _Optional[_Union[MatchParam.DimIn, _Mapping]] = ..., dim_is_null: _Optional[_Union[MatchParam.DimIsNull, _Mapping]] = ..., date_compare: _Optional[_Union[MatchParam.DateCompare, _Mapping]] = ..., date_between: _Optional[_Union[MatchParam.DateBetween, _Mapping]] = ..., measure_compare: _Optional[_Union[MatchParam.MeasureCompare, _Mapping]] = ...) -> None: ...

class Selection(_message.Message):
    __slots__ = ("query", "segment", "expr")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    query: str
    segment: str
    expr: Expr
    def __init__(self, query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ...) -> None: ...

class FieldInfo(_message.Message):
    __slots__ = ("name", "type", "builtin")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: str
    builtin: bool
    def __init__(self, name: _Optional[str] = ..., type: _Optional[str] = ..., builtin: _Optional[bool] = ...) -> None: ...

class IndexInfo(_message.Message):
    __slots__ = ("name", "schema_toml", "timezone", "customer_count", "line_count", "fields", "dimensions", "segments", "lists", "shards", "shard_sizes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_TOML_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    LISTS_FIELD_NUMBER: _ClassVar[int]
    SHARDS_FIELD_NUMBER: _ClassVar[int]
    SHARD_SIZES_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema_toml: str
    timezone: str
    customer_count: int
    line_count: int
    fields: _containers.RepeatedCompositeFieldContainer[FieldInfo]
    dimensions: _containers.RepeatedScalarFieldContainer[str]
    segments: _containers.RepeatedScalarFieldContainer[str]
    lists: _containers.RepeatedScalarFieldContainer[str]
    shards: int
    shard_sizes: _containers.RepeatedCompositeFieldContainer[ShardSize]
    def __init__(self, name: _Optional[str] = ..., schema_toml: _Optional[str] = ..., timezone: _Optional[str] = ..., customer_count: _Optional[int] = ..., line_count: _Optional[int] = ..., fields: _Optional[_Iterable[_Union[FieldInfo, _Mapping]]] = ..., dimensions: _Optional[_Iterable[str]] = ..., segments: _Optional[_Iterable[str]] = ..., lists: _Optional[_Iterable[str]] = ..., shards: _Optional[int] = ..., shard_sizes: _Optional[_Iterable[_Union[ShardSize, _Mapping]]] = ...) -> None: ...

class ShardSize(_message.Message):
    __slots__ = ("shard", "customers", "lines")
    SHARD_FIELD_NUMBER: _ClassVar[int]
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    shard: int
    customers: int
    lines: int
    def __init__(self, shard: _Optional[int] = ..., customers: _Optional[int] = ..., lines: _Optional[int] = ...) -> None: ...

class CreateIndexRequest(_message.Message):
    __slots__ = ("index", "schema_toml")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_TOML_FIELD_NUMBER: _ClassVar[int]
    index: str
    schema_toml: str
    def __init__(self, index: _Optional[str] = ..., schema_toml: _Optional[str] = ...) -> None: ...

class CreateIndexResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: IndexInfo
    def __init__(self, info: _Optional[_Union[IndexInfo, _Mapping]] = ...) -> None: ...

class DropIndexRequest(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: str
    def __init__(self, index: _Optional[str] = ...) -> None: ...

class DropIndexResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListIndexesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListIndexesResponse(_message.Message):
    __slots__ = ("indexes",)
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    indexes: _containers.RepeatedCompositeFieldContainer[IndexInfo]
    def __init__(self, indexes: _Optional[_Iterable[_Union[IndexInfo, _Mapping]]] = ...) -> None: ...

class GetIndexRequest(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: str
    def __init__(self, index: _Optional[str] = ...) -> None: ...

class GetIndexResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: IndexInfo
    def __init__(self, info: _Optional[_Union[IndexInfo, _Mapping]] = ...) -> None: ...

class Row(_message.Message):
    __slots__ = ("cells", "row_number")
    class CellsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CELLS_FIELD_NUMBER: _ClassVar[int]
    ROW_NUMBER_FIELD_NUMBER: _ClassVar[int]
    cells: _containers.ScalarMap[str, str]
    row_number: int
    def __init__(self, cells: _Optional[_Mapping[str, str]] = ..., row_number: _Optional[int] = ...) -> None: ...

class CsvChunk(_message.Message):
    __slots__ = ("header", "data", "first_line")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FIRST_LINE_FIELD_NUMBER: _ClassVar[int]
    header: _containers.RepeatedScalarFieldContainer[str]
    data: bytes
    first_line: int
    def __init__(self, header: _Optional[_Iterable[str]] = ..., data: _Optional[bytes] = ..., first_line: _Optional[int] = ...) -> None: ...

class ProfileBatch(_message.Message):
    __slots__ = ("index", "rows", "csv", "file_sha256", "file_name", "force")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    FILE_SHA256_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    index: str
    rows: _containers.RepeatedCompositeFieldContainer[Row]
    csv: CsvChunk
    file_sha256: str
    file_name: str
    force: bool
    def __init__(self, index: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[Row, _Mapping]]] = ..., csv: _Optional[_Union[CsvChunk, _Mapping]] = ..., file_sha256: _Optional[str] = ..., file_name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class PurchaseBatch(_message.Message):
    __slots__ = ("index", "rows", "csv", "file_sha256", "file_name", "force")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    FILE_SHA256_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    index: str
    rows: _containers.RepeatedCompositeFieldContainer[Row]
    csv: CsvChunk
    file_sha256: str
    file_name: str
    force: bool
    def __init__(self, index: _Optional[str] = ..., rows: _Optional[_Iterable[_Union[Row, _Mapping]]] = ..., csv: _Optional[_Union[CsvChunk, _Mapping]] = ..., file_sha256: _Optional[str] = ..., file_name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class RejectedRow(_message.Message):
    __slots__ = ("row_number", "message")
    ROW_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    row_number: int
    message: str
    def __init__(self, row_number: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class IngestSummary(_message.Message):
    __slots__ = ("rows_received", "rows_accepted", "rows_rejected", "rejected", "batches", "customer_count", "line_count", "rows_duplicate")
    ROWS_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ROWS_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    ROWS_REJECTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_COUNT_FIELD_NUMBER: _ClassVar[int]
    LINE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ROWS_DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    rows_received: int
    rows_accepted: int
    rows_rejected: int
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedRow]
    batches: int
    customer_count: int
    line_count: int
    rows_duplicate: int
    def __init__(self, rows_received: _Optional[int] = ..., rows_accepted: _Optional[int] = ..., rows_rejected: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RejectedRow, _Mapping]]] = ..., batches: _Optional[int] = ..., customer_count: _Optional[int] = ..., line_count: _Optional[int] = ..., rows_duplicate: _Optional[int] = ...) -> None: ...

class UpsertProfilesResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: IngestSummary
    def __init__(self, summary: _Optional[_Union[IngestSummary, _Mapping]] = ...) -> None: ...

class AddPurchasesResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: IngestSummary
    def __init__(self, summary: _Optional[_Union[IngestSummary, _Mapping]] = ...) -> None: ...

class DeleteCustomersRequest(_message.Message):
    __slots__ = ("index", "customer_ids")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    index: str
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[str] = ..., customer_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteCustomersResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...

class CountRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ...) -> None: ...

class CountResponse(_message.Message):
    __slots__ = ("count", "warnings")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    count: int
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, count: _Optional[int] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class CountBatchRequest(_message.Message):
    __slots__ = ("index", "queries", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    queries: _containers.RepeatedCompositeFieldContainer[Selection]
    as_of: str
    def __init__(self, index: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[Selection, _Mapping]]] = ..., as_of: _Optional[str] = ...) -> None: ...

class CountResult(_message.Message):
    __slots__ = ("count", "error", "code", "query_error", "warnings")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    QUERY_ERROR_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    count: int
    error: str
    code: str
    query_error: QueryErrorDetail
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, count: _Optional[int] = ..., error: _Optional[str] = ..., code: _Optional[str] = ..., query_error: _Optional[_Union[QueryErrorDetail, _Mapping]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class CountBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CountResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CountResult, _Mapping]]] = ...) -> None: ...

class StreamMembersRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of", "chunk_size", "after", "limit", "cursor")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    chunk_size: int
    after: str
    limit: int
    cursor: str
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ..., chunk_size: _Optional[int] = ..., after: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class MemberChunk(_message.Message):
    __slots__ = ("customer_ids", "cursor")
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    cursor: str
    def __init__(self, customer_ids: _Optional[_Iterable[str]] = ..., cursor: _Optional[str] = ...) -> None: ...

class CheckMembershipRequest(_message.Message):
    __slots__ = ("index", "customer_id", "segments", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    customer_id: str
    segments: _containers.RepeatedScalarFieldContainer[str]
    as_of: str
    def __init__(self, index: _Optional[str] = ..., customer_id: _Optional[str] = ..., segments: _Optional[_Iterable[str]] = ..., as_of: _Optional[str] = ...) -> None: ...

class CheckMembershipResponse(_message.Message):
    __slots__ = ("is_member",)
    IS_MEMBER_FIELD_NUMBER: _ClassVar[int]
    is_member: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, is_member: _Optional[_Iterable[bool]] = ...) -> None: ...

class CustomerSegmentsRequest(_message.Message):
    __slots__ = ("index", "customer_id", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    customer_id: str
    as_of: str
    def __init__(self, index: _Optional[str] = ..., customer_id: _Optional[str] = ..., as_of: _Optional[str] = ...) -> None: ...

class CustomerSegmentsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, segments: _Optional[_Iterable[str]] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("name", "query", "expr", "kind", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    query: str
    expr: Expr
    kind: SegmentKind
    description: str
    def __init__(self, name: _Optional[str] = ..., query: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., kind: _Optional[_Union[SegmentKind, str]] = ..., description: _Optional[str] = ...) -> None: ...

class SaveSegmentRequest(_message.Message):
    __slots__ = ("index", "name", "query", "expr", "kind", "description", "backfill_days")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BACKFILL_DAYS_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    query: str
    expr: Expr
    kind: SegmentKind
    description: str
    backfill_days: int
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ..., query: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., kind: _Optional[_Union[SegmentKind, str]] = ..., description: _Optional[str] = ..., backfill_days: _Optional[int] = ...) -> None: ...

class SaveSegmentResponse(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class GetSegmentRequest(_message.Message):
    __slots__ = ("index", "name")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetSegmentResponse(_message.Message):
    __slots__ = ("segment",)
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    segment: Segment
    def __init__(self, segment: _Optional[_Union[Segment, _Mapping]] = ...) -> None: ...

class ListSegmentsRequest(_message.Message):
    __slots__ = ("index",)
    INDEX_FIELD_NUMBER: _ClassVar[int]
    index: str
    def __init__(self, index: _Optional[str] = ...) -> None: ...

class ListSegmentsResponse(_message.Message):
    __slots__ = ("segments",)
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    def __init__(self, segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ...) -> None: ...

class DeleteSegmentRequest(_message.Message):
    __slots__ = ("index", "name")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteSegmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateListRequest(_message.Message):
    __slots__ = ("index", "name", "add", "remove", "replace", "replace_with")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    REPLACE_WITH_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    add: _containers.RepeatedScalarFieldContainer[str]
    remove: _containers.RepeatedScalarFieldContainer[str]
    replace: bool
    replace_with: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ..., add: _Optional[_Iterable[str]] = ..., remove: _Optional[_Iterable[str]] = ..., replace: _Optional[bool] = ..., replace_with: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateListResponse(_message.Message):
    __slots__ = ("size",)
    SIZE_FIELD_NUMBER: _ClassVar[int]
    size: int
    def __init__(self, size: _Optional[int] = ...) -> None: ...

class GetListRequest(_message.Message):
    __slots__ = ("index", "name")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetListResponse(_message.Message):
    __slots__ = ("customer_ids", "size")
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    size: int
    def __init__(self, customer_ids: _Optional[_Iterable[str]] = ..., size: _Optional[int] = ...) -> None: ...

class Tier(_message.Message):
    __slots__ = ("name", "selection")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    selection: Selection
    def __init__(self, name: _Optional[str] = ..., selection: _Optional[_Union[Selection, _Mapping]] = ...) -> None: ...

class SaveTieringRequest(_message.Message):
    __slots__ = ("index", "name", "tiers", "default_tier")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TIERS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TIER_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    tiers: _containers.RepeatedCompositeFieldContainer[Tier]
    default_tier: str
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ..., tiers: _Optional[_Iterable[_Union[Tier, _Mapping]]] = ..., default_tier: _Optional[str] = ...) -> None: ...

class SaveTieringResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CountTiersRequest(_message.Message):
    __slots__ = ("index", "name", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    name: str
    as_of: str
    def __init__(self, index: _Optional[str] = ..., name: _Optional[str] = ..., as_of: _Optional[str] = ...) -> None: ...

class TierCount(_message.Message):
    __slots__ = ("tier", "count")
    TIER_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    tier: str
    count: int
    def __init__(self, tier: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class CountTiersResponse(_message.Message):
    __slots__ = ("tiers",)
    TIERS_FIELD_NUMBER: _ClassVar[int]
    tiers: _containers.RepeatedCompositeFieldContainer[TierCount]
    def __init__(self, tiers: _Optional[_Iterable[_Union[TierCount, _Mapping]]] = ...) -> None: ...

class GroupStats(_message.Message):
    __slots__ = ("customers", "orders", "revenue", "average_order_value", "average_clv", "presence_share")
    class PresenceShareEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_ORDER_VALUE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_CLV_FIELD_NUMBER: _ClassVar[int]
    PRESENCE_SHARE_FIELD_NUMBER: _ClassVar[int]
    customers: int
    orders: int
    revenue: str
    average_order_value: str
    average_clv: str
    presence_share: _containers.ScalarMap[str, float]
    def __init__(self, customers: _Optional[int] = ..., orders: _Optional[int] = ..., revenue: _Optional[str] = ..., average_order_value: _Optional[str] = ..., average_clv: _Optional[str] = ..., presence_share: _Optional[_Mapping[str, float]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ...) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("count", "members", "rest")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    REST_FIELD_NUMBER: _ClassVar[int]
    count: int
    members: GroupStats
    rest: GroupStats
    def __init__(self, count: _Optional[int] = ..., members: _Optional[_Union[GroupStats, _Mapping]] = ..., rest: _Optional[_Union[GroupStats, _Mapping]] = ...) -> None: ...

class BreakdownRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of", "field", "top", "start", "end")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    field: str
    top: int
    start: str
    end: str
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ..., field: _Optional[str] = ..., top: _Optional[int] = ..., start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class ValueCount(_message.Message):
    __slots__ = ("value", "count", "revenue")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    value: str
    count: int
    revenue: str
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ..., revenue: _Optional[str] = ...) -> None: ...

class BreakdownResponse(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[ValueCount]
    def __init__(self, values: _Optional[_Iterable[_Union[ValueCount, _Mapping]]] = ...) -> None: ...

class ValuesRequest(_message.Message):
    __slots__ = ("index", "field", "prefix", "limit")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    index: str
    field: str
    prefix: str
    limit: int
    def __init__(self, index: _Optional[str] = ..., field: _Optional[str] = ..., prefix: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ValuesResponse(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[ValueCount]
    def __init__(self, values: _Optional[_Iterable[_Union[ValueCount, _Mapping]]] = ...) -> None: ...

class BuyersPerDayRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of", "start", "end")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    start: str
    end: str
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class DayCount(_message.Message):
    __slots__ = ("day", "count")
    DAY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    day: str
    count: int
    def __init__(self, day: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class BuyersPerDayResponse(_message.Message):
    __slots__ = ("days",)
    DAYS_FIELD_NUMBER: _ClassVar[int]
    days: _containers.RepeatedCompositeFieldContainer[DayCount]
    def __init__(self, days: _Optional[_Iterable[_Union[DayCount, _Mapping]]] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("index", "segment", "start", "end")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    index: str
    segment: str
    start: str
    end: str
    def __init__(self, index: _Optional[str] = ..., segment: _Optional[str] = ..., start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class HistoryRow(_message.Message):
    __slots__ = ("day", "size", "entered", "left", "backfilled")
    DAY_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    ENTERED_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    BACKFILLED_FIELD_NUMBER: _ClassVar[int]
    day: str
    size: int
    entered: int
    left: int
    backfilled: bool
    def __init__(self, day: _Optional[str] = ..., size: _Optional[int] = ..., entered: _Optional[int] = ..., left: _Optional[int] = ..., backfilled: _Optional[bool] = ...) -> None: ...

class GetHistoryResponse(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[HistoryRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[HistoryRow, _Mapping]]] = ...) -> None: ...

class StreamChangesRequest(_message.Message):
    __slots__ = ("index", "segment", "since", "chunk_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: str
    segment: str
    since: str
    chunk_size: int
    def __init__(self, index: _Optional[str] = ..., segment: _Optional[str] = ..., since: _Optional[str] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class ChangeChunk(_message.Message):
    __slots__ = ("entered", "left")
    ENTERED_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    entered: _containers.RepeatedScalarFieldContainer[str]
    left: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entered: _Optional[_Iterable[str]] = ..., left: _Optional[_Iterable[str]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("id", "created", "bytes", "indexes")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    id: str
    created: str
    bytes: int
    indexes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., created: _Optional[str] = ..., bytes: _Optional[int] = ..., indexes: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateSnapshotResponse(_message.Message):
    __slots__ = ("snapshot",)
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    snapshot: Snapshot
    def __init__(self, snapshot: _Optional[_Union[Snapshot, _Mapping]] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots",)
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[Snapshot]
    def __init__(self, snapshots: _Optional[_Iterable[_Union[Snapshot, _Mapping]]] = ...) -> None: ...

class ExplainRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of", "analyze")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ANALYZE_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    analyze: bool
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ..., analyze: _Optional[bool] = ...) -> None: ...

class PlanStep(_message.Message):
    __slots__ = ("depth", "text", "access", "minus", "count", "ms")
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    MINUS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MS_FIELD_NUMBER: _ClassVar[int]
    depth: int
    text: str
    access: str
    minus: bool
    count: int
    ms: float
    def __init__(self, depth: _Optional[int] = ..., text: _Optional[str] = ..., access: _Optional[str] = ..., minus: _Optional[bool] = ..., count: _Optional[int] = ..., ms: _Optional[float] = ...) -> None: ...

class ExplainResponse(_message.Message):
    __slots__ = ("steps", "as_of", "analyzed")
    STEPS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedCompositeFieldContainer[PlanStep]
    as_of: str
    analyzed: bool
    def __init__(self, steps: _Optional[_Iterable[_Union[PlanStep, _Mapping]]] = ..., as_of: _Optional[str] = ..., analyzed: _Optional[bool] = ...) -> None: ...

class ExplainMemberRequest(_message.Message):
    __slots__ = ("index", "customer_id", "query", "segment", "expr", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    customer_id: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    def __init__(self, index: _Optional[str] = ..., customer_id: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ...) -> None: ...

class PurchaseLine(_message.Message):
    __slots__ = ("day", "amount", "quantity", "order", "dimensions")
    class DimensionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DAY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    day: str
    amount: str
    quantity: int
    order: str
    dimensions: _containers.ScalarMap[str, str]
    def __init__(self, day: _Optional[str] = ..., amount: _Optional[str] = ..., quantity: _Optional[int] = ..., order: _Optional[str] = ..., dimensions: _Optional[_Mapping[str, str]] = ...) -> None: ...

class WhyStep(_message.Message):
    __slots__ = ("depth", "text", "holds", "minus", "values", "lines")
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    MINUS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    depth: int
    text: str
    holds: bool
    minus: bool
    values: _containers.RepeatedScalarFieldContainer[str]
    lines: _containers.RepeatedCompositeFieldContainer[PurchaseLine]
    def __init__(self, depth: _Optional[int] = ..., text: _Optional[str] = ..., holds: _Optional[bool] = ..., minus: _Optional[bool] = ..., values: _Optional[_Iterable[str]] = ..., lines: _Optional[_Iterable[_Union[PurchaseLine, _Mapping]]] = ...) -> None: ...

class ExplainMemberResponse(_message.Message):
    __slots__ = ("is_member", "steps")
    IS_MEMBER_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    is_member: bool
    steps: _containers.RepeatedCompositeFieldContainer[WhyStep]
    def __init__(self, is_member: _Optional[bool] = ..., steps: _Optional[_Iterable[_Union[WhyStep, _Mapping]]] = ...) -> None: ...

class CountCriteriaRequest(_message.Message):
    __slots__ = ("index", "query", "segment", "expr", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    EXPR_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    query: str
    segment: str
    expr: Expr
    as_of: str
    def __init__(self, index: _Optional[str] = ..., query: _Optional[str] = ..., segment: _Optional[str] = ..., expr: _Optional[_Union[Expr, _Mapping]] = ..., as_of: _Optional[str] = ...) -> None: ...

class CriterionCount(_message.Message):
    __slots__ = ("text", "count", "running", "without")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    WITHOUT_FIELD_NUMBER: _ClassVar[int]
    text: str
    count: int
    running: int
    without: int
    def __init__(self, text: _Optional[str] = ..., count: _Optional[int] = ..., running: _Optional[int] = ..., without: _Optional[int] = ...) -> None: ...

class CountCriteriaResponse(_message.Message):
    __slots__ = ("combinator", "total", "criteria")
    COMBINATOR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CRITERIA_FIELD_NUMBER: _ClassVar[int]
    combinator: str
    total: int
    criteria: _containers.RepeatedCompositeFieldContainer[CriterionCount]
    def __init__(self, combinator: _Optional[str] = ..., total: _Optional[int] = ..., criteria: _Optional[_Iterable[_Union[CriterionCount, _Mapping]]] = ...) -> None: ...

class OverlapRequest(_message.Message):
    __slots__ = ("index", "selections", "as_of")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SELECTIONS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    index: str
    selections: _containers.RepeatedCompositeFieldContainer[Selection]
    as_of: str
    def __init__(self, index: _Optional[str] = ..., selections: _Optional[_Iterable[_Union[Selection, _Mapping]]] = ..., as_of: _Optional[str] = ...) -> None: ...

class OverlapResponse(_message.Message):
    __slots__ = ("sizes", "matrix")
    SIZES_FIELD_NUMBER: _ClassVar[int]
    MATRIX_FIELD_NUMBER: _ClassVar[int]
    sizes: _containers.RepeatedScalarFieldContainer[int]
    matrix: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, sizes: _Optional[_Iterable[int]] = ..., matrix: _Optional[_Iterable[int]] = ...) -> None: ...

class WatchChangesRequest(_message.Message):
    __slots__ = ("index", "segment", "since", "chunk_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: str
    segment: str
    since: str
    chunk_size: int
    def __init__(self, index: _Optional[str] = ..., segment: _Optional[str] = ..., since: _Optional[str] = ..., chunk_size: _Optional[int] = ...) -> None: ...

class ChangeDay(_message.Message):
    __slots__ = ("day", "entered", "left", "complete")
    DAY_FIELD_NUMBER: _ClassVar[int]
    ENTERED_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    day: str
    entered: _containers.RepeatedScalarFieldContainer[str]
    left: _containers.RepeatedScalarFieldContainer[str]
    complete: bool
    def __init__(self, day: _Optional[str] = ..., entered: _Optional[_Iterable[str]] = ..., left: _Optional[_Iterable[str]] = ..., complete: _Optional[bool] = ...) -> None: ...

class QueryErrorDetail(_message.Message):
    __slots__ = ("offset", "line", "column", "message")
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    offset: int
    line: int
    column: int
    message: str
    def __init__(self, offset: _Optional[int] = ..., line: _Optional[int] = ..., column: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class IndexSize(_message.Message):
    __slots__ = ("name", "customers", "lines", "memory_bytes")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    customers: int
    lines: int
    memory_bytes: int
    def __init__(self, name: _Optional[str] = ..., customers: _Optional[int] = ..., lines: _Optional[int] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class SlowCall(_message.Message):
    __slots__ = ("method", "index", "query", "ms", "at", "code")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    MS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    method: str
    index: str
    query: str
    ms: float
    at: str
    code: str
    def __init__(self, method: _Optional[str] = ..., index: _Optional[str] = ..., query: _Optional[str] = ..., ms: _Optional[float] = ..., at: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class GetServerInfoResponse(_message.Message):
    __slots__ = ("version", "uptime_seconds", "indexes", "log_bytes", "last_snapshot", "last_snapshot_outcome", "slowest", "serving", "data_dir")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    LOG_BYTES_FIELD_NUMBER: _ClassVar[int]
    LAST_SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    LAST_SNAPSHOT_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    SLOWEST_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    DATA_DIR_FIELD_NUMBER: _ClassVar[int]
    version: str
    uptime_seconds: float
    indexes: _containers.RepeatedCompositeFieldContainer[IndexSize]
    log_bytes: int
    last_snapshot: Snapshot
    last_snapshot_outcome: str
    slowest: _containers.RepeatedCompositeFieldContainer[SlowCall]
    serving: bool
    data_dir: str
    def __init__(self, version: _Optional[str] = ..., uptime_seconds: _Optional[float] = ..., indexes: _Optional[_Iterable[_Union[IndexSize, _Mapping]]] = ..., log_bytes: _Optional[int] = ..., last_snapshot: _Optional[_Union[Snapshot, _Mapping]] = ..., last_snapshot_outcome: _Optional[str] = ..., slowest: _Optional[_Iterable[_Union[SlowCall, _Mapping]]] = ..., serving: _Optional[bool] = ..., data_dir: _Optional[str] = ...) -> None: ...
