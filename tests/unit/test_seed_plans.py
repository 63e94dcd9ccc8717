"""The seed plans' scenarios at the bus level (fast; the same scenarios run on the real stack)."""
import pytest

from tests import scenarios
from tests.driver import InProcess
from tests.unit.conftest import SECRET


@pytest.fixture
def driver(system):
    return InProcess(system, SECRET)


@pytest.mark.parametrize("scenario", [scenarios.my_hoa, scenarios.gia_lai, scenarios.da_nang,
                                      scenarios.quang_ninh, scenarios.ad_hoc, scenarios.two_provinces],
                         ids=lambda f: f.__name__)
def test_seed_plan(driver, scenario):
    scenario(driver)
