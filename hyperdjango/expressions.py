"""Query expressions and database functions, as the spec imports them.

>>> from hyperdjango.expressions import F, Q, Sum, Avg, Count, Min, Max, Value, Case, When, Coalesce, Subquery, OuterRef, Exists
>>> F("stock") - 1
F('stock') - Value(1)

They live in :mod:`hyperdjango.orm.expressions` and :mod:`hyperdjango.orm.functions`;
this module is the short import path.
"""

from .orm.custom_lookups import Lookup, Transform
from .orm.expressions import Avg, Case, Coalesce, Count, Exists, F, Func, Max, Min, OuterRef, Q, Subquery, Sum, Value, When
from .orm.functions import (
    Abs,
    Cast,
    Ceil,
    Concat,
    ExpressionWrapper,
    Floor,
    Greatest,
    Least,
    Left,
    Length,
    Lower,
    LTrim,
    Mod,
    NullIf,
    Power,
    Replace,
    Right,
    Round,
    RTrim,
    Sqrt,
    StdDev,
    StrIndex,
    Substr,
    Trim,
    Upper,
    Variance,
)
from .orm.functions_datetime import (
    Extract,
    ExtractDay,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractIsoYear,
    ExtractMinute,
    ExtractMonth,
    ExtractQuarter,
    ExtractSecond,
    ExtractWeek,
    ExtractWeekDay,
    ExtractYear,
    Now,
    Trunc,
    TruncDate,
    TruncDay,
    TruncHour,
    TruncMinute,
    TruncMonth,
    TruncQuarter,
    TruncSecond,
    TruncTime,
    TruncWeek,
    TruncYear,
)
from .orm.functions_text import MD5, SHA1, SHA224, SHA256, SHA384, SHA512, Chr, LPad, Ord, Repeat, Reverse, RPad
from .orm.filtered_relation import FilteredRelation
from .orm.window import (
    CumeDist,
    DenseRank,
    FirstValue,
    Lag,
    LastValue,
    Lead,
    NthValue,
    Ntile,
    PercentRank,
    Rank,
    RowNumber,
    RowRange,
    ValueRange,
    Window,
    WindowFrameExclusion,
)

__all__ = [
    "Abs", "Avg", "Case", "Cast", "Ceil", "Coalesce", "Concat", "Count", "Exists", "ExpressionWrapper", "F", "Floor", "Func",
    "Greatest", "Least", "Left", "Length", "Lower", "LTrim", "Max", "Min", "Mod", "NullIf", "OuterRef", "Power", "Q",
    "Replace", "Right", "Round", "RTrim", "Sqrt", "StdDev", "StrIndex", "Subquery", "Substr", "Sum", "Trim", "Upper",
    "Value", "Variance", "When",
    "Chr", "Extract", "ExtractDay", "ExtractHour", "ExtractIsoWeekDay", "ExtractIsoYear", "ExtractMinute", "ExtractMonth", "ExtractQuarter",
    "ExtractSecond", "ExtractWeek", "ExtractWeekDay", "ExtractYear", "Lookup", "LPad", "MD5", "Now", "Ord", "Repeat", "Reverse", "RPad",
    "SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "Transform", "Trunc", "TruncDate", "TruncDay", "TruncHour", "TruncMinute", "TruncMonth",
    "TruncQuarter", "TruncSecond", "TruncTime", "TruncWeek", "TruncYear",
    "CumeDist", "DenseRank", "FirstValue", "Lag", "LastValue", "Lead", "NthValue", "Ntile", "PercentRank", "Rank", "RowNumber",
    "RowRange", "ValueRange", "Window", "WindowFrameExclusion", "FilteredRelation",
]
