"""CRM import: any CSV text gives an import or a ``file:line: problem`` error, and an error changes nothing."""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db.migrate import upgrade
from bot.db.models import Customer, Order
from bot.db.session import engine_for, sessions_for
from bot.service.crm_import import CUSTOMER_COLUMNS, ORDER_COLUMNS, SHIPMENT_COLUMNS, CsvImportError, import_crm
from bot.service.customers import recompute_tiers
from bot.service.tiers import load_tiers
from bot.settings import ROOT
from tests.fuzz import FUZZ
from tests.test_crm_import import CUSTOMERS, ORDERS, run_import, write

TIERS = load_tiers(ROOT / "tiers.yml")
# Rows that mostly pass the row checks, so that they meet the stored customers: their ids and
# phones, new ones, and values at the edges of each column. Free-text fields take any text.
CUSTOMER_IDS = st.sampled_from(["C1", "C2", "C3", " C4 "])
PHONES = st.sampled_from(["", "13800000001", "+14155550142", "13800000003"])
EMAILS = st.sampled_from(["", "a@b.cn", "x" * 250 + "@b.cn"])
DATES = st.sampled_from(["2026-03-01", "0001-01-01", "9999-12-31"])
AMOUNTS = st.sampled_from(["0", "10.00", "9999999999.99", "-0", "1_000"])
CUSTOMER = st.tuples(CUSTOMER_IDS, st.text(min_size=1, max_size=10), PHONES, EMAILS, st.sampled_from(["zh", "en"]))
OPTIONAL_DATES = st.sampled_from(["", "2026-03-01", "2026-03-04", "0001-01-01", "9999-12-31", "2026-02-30"])
ORDER = st.tuples(
    st.sampled_from(["O1", "O2", "O4"]),
    CUSTOMER_IDS,
    DATES,
    AMOUNTS,
    st.sampled_from(["paid", "delivered"]),
    st.text(max_size=10),
    st.sampled_from(["", "pending", "in_transit", "delivered", "returned", "lost"]),
    st.sampled_from(["", "顺丰速运", "DHL Express"]),
    st.sampled_from(["", "SF1234567890123", "1234567890", "SF 1"]),
    OPTIONAL_DATES,
    OPTIONAL_DATES,
    OPTIONAL_DATES,
)


def table(header: tuple[str, ...], rows: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue()


def everything(url: str) -> tuple:
    with sessions_for(url)() as session:
        return (
            session.execute(select(Customer.id, Customer.name, Customer.phone, Customer.email, Customer.tier)).all(),
            session.execute(
                select(
                    Order.id,
                    Order.customer_id,
                    Order.placed_at,
                    Order.amount,
                    Order.status,
                    Order.shipment_status,
                    Order.carrier,
                    Order.tracking_number,
                    Order.shipped_at,
                    Order.promised_date,
                    Order.delivered_at,
                )
            ).all(),
        )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding two customers and their orders, copied fresh for every example."""
    folder = tmp_path_factory.mktemp("crm")
    url = f"sqlite:///{folder / 'template.db'}"
    upgrade(url)
    run_import(url, *write(folder))
    engine_for(url).dispose()
    return folder / "template.db"


@pytest.fixture
def fresh(template: Path, tmp_path: Path):
    numbers = itertools.count()

    def fresh_database() -> str:
        path = tmp_path / f"db{next(numbers)}.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"

    return fresh_database


def import_or_refuse(url: str, customers: Path, orders: Path) -> None:
    """Imports as ``bot customers import`` does; a refusal names a file and line and changes nothing."""
    before = everything(url)
    try:
        with sessions_for(url).begin() as session:
            result = import_crm(session, customers_csv=customers, orders_csv=orders)
            recompute_tiers(session, tiers=TIERS, today=date(2026, 11, 1), customer_ids=result.customer_ids)
    except CsvImportError as error:
        path = error.path
        lines = len(re.split(r"\r\n|[\r\n]", path.read_bytes().decode("utf-8", "replace"))) if path.exists() else 0
        assert path in (customers, orders) and 0 <= error.line <= lines, error
        assert str(error).startswith(f"{path}:{error.line}: ")
        assert everything(url) == before


@FUZZ
@given(customers=st.lists(CUSTOMER, max_size=4), orders=st.lists(ORDER, max_size=4))
def test_any_rows_import_or_are_refused_by_file_and_line(tmp_path, fresh, customers, orders):
    orders_csv = table((*ORDER_COLUMNS, *SHIPMENT_COLUMNS), orders)
    import_or_refuse(fresh(), *write(tmp_path, table(CUSTOMER_COLUMNS, customers), orders_csv))


@FUZZ
@given(which=st.sampled_from([0, 1]), rows=st.lists(st.lists(st.text(max_size=8), max_size=8), max_size=3))
def test_rows_of_any_cells_import_or_are_refused(tmp_path, fresh, which, rows):
    paths = write(tmp_path)
    header = (CUSTOMER_COLUMNS, (*ORDER_COLUMNS, *SHIPMENT_COLUMNS))[which]
    paths[which].write_text(table(header, rows), encoding="utf-8")
    import_or_refuse(fresh(), *paths)


@FUZZ
@given(which=st.sampled_from([0, 1]), content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_in_either_file_import_or_are_refused(tmp_path, fresh, which, content):
    paths = write(tmp_path, CUSTOMERS, ORDERS)
    paths[which].write_bytes(content)
    import_or_refuse(fresh(), *paths)


HEADER = "id,name,phone,email,language\n"
NO_ORDERS = "id,customer_id,placed_at,amount,status,items\n"


@pytest.mark.parametrize(
    ("customers", "where", "problem"),
    [
        (HEADER + "C3,Li,13800000001,,zh\n", "customers.csv:2", "phone '13800000001' is stored for customer 'C1'"),
        (HEADER + "C3,Li,,x@" + "y" * 250 + ".cn,zh\n", "customers.csv:2", "is not an e-mail address"),
        (HEADER + "C3,Li\x00,,,zh\n", "customers.csv:2", "NUL character"),
    ],
)
def test_what_once_crashed_the_import_names_file_and_line(tmp_path, fresh, customers, where, problem):
    url = fresh()
    before = everything(url)
    with pytest.raises(CsvImportError) as error:
        run_import(url, *write(tmp_path, customers, NO_ORDERS))
    assert str(error.value).startswith(f"{tmp_path / where}: ") and problem in str(error.value)
    assert everything(url) == before


def test_customers_of_one_file_may_swap_phones_and_fields_may_hold_any_character(tmp_path, fresh):
    url = fresh()
    customers = HEADER + "C1,王\x0c\u2028芳,+14155550142,,zh\nC2,Emily,13800000001,,en\n"
    run_import(url, *write(tmp_path, customers, NO_ORDERS))
    customers, _ = everything(url)
    assert [(c.id, c.name, c.phone) for c in customers] == [
        ("C1", "王\x0c\u2028芳", "+14155550142"),
        ("C2", "Emily", "13800000001"),
    ]
