"""One test per gate: `suite/version::gate-id` (the test lives in harness.gate_tests, so an installed
package gates a team's own suites folder the same way)."""

from harness.gate_tests import test_gate  # noqa: F401  collected here: suites/test_gates.py::test_gate[...]
