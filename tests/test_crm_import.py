from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db.models import Customer, Order
from bot.db.session import sessions_for
from bot.service.crm_import import CsvImportError, import_crm

CUSTOMERS = """id,name,phone,email,language
C1,王芳,13800000001,wf@example.com,zh
C2,Emily Carter,+14155550142,,en
"""
ORDERS = """id,customer_id,placed_at,amount,status,items
O1,C1,2026-01-05,199.00,delivered,无线耳机 x1
O2,C1,2026-02-10,59.90,shipped,手机壳 x1
O3,C2,2026-03-01,1200.50,delivered,"Running shoes (size 42) x1; Socks x3"
"""


def write(tmp_path: Path, customers: str = CUSTOMERS, orders: str = ORDERS) -> tuple[Path, Path]:
    c, o = tmp_path / "customers.csv", tmp_path / "orders.csv"
    c.write_text(customers, encoding="utf-8")
    o.write_text(orders, encoding="utf-8")
    return c, o


def counts(db_url: str) -> tuple[int, int]:
    with sessions_for(db_url)() as session:
        return (
            session.scalar(select(func.count()).select_from(Customer)),
            session.scalar(select(func.count()).select_from(Order)),
        )


def run_import(db_url: str, customers: Path, orders: Path, **kwargs):
    with sessions_for(db_url).begin() as session:
        return import_crm(session, customers_csv=customers, orders_csv=orders, **kwargs)


def test_imports_customers_and_orders(tmp_path, db_url):
    result = run_import(db_url, *write(tmp_path))
    assert (result.customers, result.orders) == (2, 3)
    with sessions_for(db_url)() as session:
        wang = session.get(Customer, "C1")
        assert (wang.name, wang.language, len(wang.orders)) == ("王芳", "zh", 2)
        assert session.get(Order, "O3").amount == Decimal("1200.50")


def test_reimport_updates_instead_of_duplicating(tmp_path, db_url):
    run_import(db_url, *write(tmp_path))
    run_import(db_url, *write(tmp_path, CUSTOMERS.replace("Emily Carter", "Emily Stone")))
    assert counts(db_url) == (2, 3)
    with sessions_for(db_url)() as session:
        assert session.get(Customer, "C2").name == "Emily Stone"


def test_shift_moves_the_newest_order_to_the_given_day(tmp_path, db_url):
    run_import(db_url, *write(tmp_path), shift_to=date(2026, 3, 11))
    with sessions_for(db_url)() as session:
        assert session.get(Order, "O3").placed_at == date(2026, 3, 11)
        assert session.get(Order, "O1").placed_at == date(2026, 1, 15)


@pytest.mark.parametrize(
    ("customers", "orders", "where", "problem"),
    [
        (CUSTOMERS + "C3,,13800000003,,zh\n", ORDERS, "customers.csv:4", "name must be"),
        (CUSTOMERS + "C3,Li,13800000003,,fr\n", ORDERS, "customers.csv:4", "language must be"),
        (CUSTOMERS + "C1,Again,13800000009,,zh\n", ORDERS, "customers.csv:4", "customer id 'C1' appears twice"),
        (CUSTOMERS + "C3,Li,13800000001,,zh\n", ORDERS, "customers.csv:4", "phone '13800000001' appears twice"),
        (CUSTOMERS + "C3,Li,call me,,zh\n", ORDERS, "customers.csv:4", "not a phone number"),
        (CUSTOMERS + "C3,Li,,not-an-email,zh\n", ORDERS, "customers.csv:4", "not an e-mail"),
        (CUSTOMERS + "C3,Li,13800000003,zh\n", ORDERS, "customers.csv:4", "expected 5 fields"),
        ("id,name,phone,language\nC1,Wang,1380000,zh\n", ORDERS, "customers.csv:1", "missing column(s) email"),
        (CUSTOMERS, ORDERS + "O4,C9,2026-03-01,10.00,delivered,x\n", "orders.csv:5", "unknown customer 'C9'"),
        (CUSTOMERS, ORDERS + "O4,C1,2026-13-01,10.00,delivered,x\n", "orders.csv:5", "not a date"),
        (CUSTOMERS, ORDERS + "O4,C1,2026-03-01,ten,delivered,x\n", "orders.csv:5", "not a number"),
        (CUSTOMERS, ORDERS + "O4,C1,2026-03-01,-5,delivered,x\n", "orders.csv:5", "non-negative"),
        (CUSTOMERS, ORDERS + "O4,C1,2026-03-01,1.005,delivered,x\n", "orders.csv:5", "at most 2 decimals"),
        (CUSTOMERS, ORDERS + "O4,C1,2026-03-01,NaN,delivered,x\n", "orders.csv:5", "non-negative"),
        (CUSTOMERS, ORDERS + "O4,C1,2026-03-01,10,lost,x\n", "orders.csv:5", "status must be"),
        (CUSTOMERS, ORDERS + "O1,C1,2026-03-01,10,paid,x\n", "orders.csv:5", "order id 'O1' appears twice"),
        (CUSTOMERS, ORDERS + 'O4,C1,2026-03-01,10,paid,"unclosed\n', "orders.csv:5", "bad CSV"),
    ],
)
def test_a_bad_row_names_file_and_line_and_imports_nothing(tmp_path, db_url, customers, orders, where, problem):
    with pytest.raises(CsvImportError) as error:
        run_import(db_url, *write(tmp_path, customers, orders))
    assert where in str(error.value)
    assert problem in str(error.value)
    assert counts(db_url) == (0, 0)


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path, db_url):
    customers, orders = write(tmp_path)
    customers.write_bytes(CUSTOMERS.encode("utf-8") + "C3,李,13800000003,,zh\n".encode("gbk"))
    with pytest.raises(CsvImportError, match=r"customers.csv:4: not UTF-8"):
        run_import(db_url, customers, orders)
    assert counts(db_url) == (0, 0)


def test_a_missing_file_is_a_clear_error(tmp_path, db_url):
    customers, _ = write(tmp_path)
    with pytest.raises(CsvImportError, match=r"nope\.csv"):
        run_import(db_url, customers, tmp_path / "nope.csv")


SHIPMENT_HEADER = "id,customer_id,placed_at,amount,status,items,shipment_status,carrier,tracking_number,shipped_at,promised_date,delivered_at\n"
SHIPPED_ORDERS = SHIPMENT_HEADER + (
    "O1,C1,2026-01-05,199.00,delivered,无线耳机 x1,delivered,顺丰速运,SF1234567890123,2026-01-06,2026-01-08,2026-01-09\n"
    "O2,C1,2026-02-10,59.90,shipped,手机壳 x1,out_for_delivery,中通快递,75312345678901,2026-02-11,,\n"
    "O3,C2,2026-03-01,1200.50,paid,Running shoes x1,,,,,2026-03-11,\n"
)


def test_the_shipment_columns_are_imported_and_moved_with_the_order_dates(tmp_path, db_url):
    run_import(db_url, *write(tmp_path, orders=SHIPPED_ORDERS), shift_to=date(2026, 3, 11))
    with sessions_for(db_url)() as session:
        o1, o2, o3 = (session.get(Order, f"O{n}") for n in (1, 2, 3))
        assert (o1.shipment_status, o1.carrier, o1.tracking_number) == ("delivered", "顺丰速运", "SF1234567890123")
        assert (o1.placed_at, o1.shipped_at, o1.promised_date, o1.delivered_at) == (
            date(2026, 1, 15),
            date(2026, 1, 16),
            date(2026, 1, 18),
            date(2026, 1, 19),
        )
        assert (o2.shipment_status, o2.promised_date, o2.delivered_at) == ("out_for_delivery", date(2026, 2, 25), None)
        assert (o3.shipment_status, o3.carrier, o3.promised_date) == ("pending", None, date(2026, 3, 21))


def test_a_file_without_shipment_columns_gets_the_state_from_the_status_and_the_usual_promise(tmp_path, db_url):
    run_import(db_url, *write(tmp_path))
    with sessions_for(db_url)() as session:
        o1, o2 = session.get(Order, "O1"), session.get(Order, "O2")
        assert (o1.shipment_status, o1.promised_date, o1.tracking_number) == ("delivered", date(2026, 1, 10), None)
        assert (o2.shipment_status, o2.promised_date) == ("in_transit", date(2026, 2, 15))


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("O4,C1,2026-03-01,10,shipped,x,lost,SF,SF1234567890123,2026-03-02,,", "shipment_status must be one of"),
        (
            "O4,C1,2026-03-01,10,shipped,x,in_transit,SF,SF1234567890123,2026-02-30,,",
            "shipped_at '2026-02-30' is not a date",
        ),
        (
            "O4,C1,2026-03-01,10,shipped,x,in_transit,SF,SF1234567890123,,2026-3-9,",
            "promised_date '2026-3-9' is not a date",
        ),
        (
            "O4,C1,2026-03-01,10,delivered,x,delivered,SF,SF1234567890123,,,2026-02-27",
            "delivered_at 2026-02-27 is before placed_at",
        ),
        (
            "O4,C1,2026-03-01,10,shipped,x,in_transit,SF,SF1234567890123,,2026-02-28,",
            "promised_date 2026-02-28 is before placed_at",
        ),
        (
            "O4,C1,2026-03-01,10,delivered,x,delivered,SF,SF123456789,2026-03-05,,2026-03-04",
            "delivered_at 2026-03-04 is before shipped_at",
        ),
        (
            "O4,C1,2026-03-01,10,shipped,x,in_transit,SF,SF123456789,,,2026-03-04",
            "delivered_at is 2026-03-04 but shipment_status is in_transit",
        ),
        (
            "O4,C1,2026-03-01,10,paid,x,pending,,,2026-03-02,,",
            "shipped_at is 2026-03-02 but shipment_status is pending",
        ),
        (
            "O4,C1,2026-03-01,10,delivered,x,in_transit,SF,SF123456789,,,",
            "status is delivered but shipment_status is in_transit",
        ),
        ("O4,C1,2026-03-01,10,shipped,x,in_transit,SF Express,,,,", "carrier and tracking_number go together"),
        ("O4,C1,2026-03-01,10,shipped,x,in_transit,,SF123456789,,,", "carrier and tracking_number go together"),
        ("O4,C1,2026-03-01,10,shipped,x,in_transit,SF,SF 123,,,", "tracking_number 'SF 123' must be"),
        ("O4,C1,2026-03-01,10,shipped,x,in_transit," + "C" * 65 + ",SF123456789,,,", "carrier must be at most 64"),
        ("O4,C1,9999-12-30,10,paid,x,,,,,,", "a date falls outside the calendar"),
    ],
)
def test_a_bad_shipment_names_file_and_line_and_imports_nothing(tmp_path, db_url, row, problem):
    with pytest.raises(CsvImportError) as error:
        run_import(db_url, *write(tmp_path, orders=SHIPPED_ORDERS + row + "\n"))
    assert "orders.csv:5: " in str(error.value) and problem in str(error.value)
    assert counts(db_url) == (0, 0)
