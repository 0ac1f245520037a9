"""The module functions of the engine (``ag.exp(x)``, ``ag.cat(ts, dim=1)``, ...),
which are also the Tensor methods (``x.exp()``): one function, one place.

Each submodule holds one family; composites here hold no derivative code
(that is the table's, ``primitives``). Every function accepts Tensors,
arrays and numbers, and NumPy's spellings (``axis``, ``keepdims``) as well as
PyTorch's (``dim``, ``keepdim``).
"""
from .arithmetic import *  # noqa: F401,F403
from .arithmetic import __all__ as _arithmetic
from .compare import *  # noqa: F401,F403
from .compare import __all__ as _compare
from .conversion import *  # noqa: F401,F403
from .conversion import __all__ as _conversion
from .indexing import *  # noqa: F401,F403
from .indexing import __all__ as _indexing
from .linalg import *  # noqa: F401,F403
from .linalg import __all__ as _linalg
from .math import *  # noqa: F401,F403
from .math import __all__ as _math
from .reduction import *  # noqa: F401,F403
from .reduction import __all__ as _reduction
from .reduction import MaxResult, MinResult  # noqa: F401
from .shape import *  # noqa: F401,F403
from .shape import __all__ as _shape
from .sorting import *  # noqa: F401,F403
from .sorting import __all__ as _sorting
from .sorting import SortResult, TopkResult, KthvalueResult, MedianResult, ModeResult  # noqa: F401
from ._args import AxisError  # noqa: F401

__all__ = [*_arithmetic, *_compare, *_conversion, *_indexing, *_linalg, *_math, *_reduction,
           *_shape, *_sorting,
           "AxisError"]
