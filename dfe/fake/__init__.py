"""A fake of DfE's lead provider API (v3) for tests and the demo: a small WSGI app with DfE's
behaviour for the endpoints the portal uses (statuses, pagination, 422 for a change DfE refuses,
duplicates), served over real HTTP on 127.0.0.1 from a thread (standard library only).

Test hooks: ``fail_next`` makes the next requests answer with an error (before acting), and
``act_then_fail`` makes the next write act and then answer 502, as a gateway that lost DfE's answer."""

from .api import FakeDfe
from .server import FakeDfeServer
from .terms import DEFERRAL_REASONS, LEADERSHIP, WITHDRAWAL_REASONS, Refusal

__all__ = ["DEFERRAL_REASONS", "LEADERSHIP", "WITHDRAWAL_REASONS", "FakeDfe", "FakeDfeServer", "Refusal"]
