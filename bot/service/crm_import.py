"""Import customers and their orders from CSV exports, all or nothing.

Every row is checked before anything is written; the first bad row stops the
import with an error naming the file and line. Rows whose id already exists
update that record, so a newer export can be imported over an older one.

The orders' shipment columns are optional, in the file and in each row: an
empty one means the parcel's state follows from the order's status, the promised
date is the shop's usual promise after the order date, and the rest is unknown.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import PROMISED_DAYS, SHIPMENT_OF_STATUS, Customer, Order
from bot.service.orders import SHIPMENT_STATUSES

__all__ = ["ORDER_STATUSES", "CsvImportError", "ImportResult", "import_crm"]

ORDER_STATUSES = frozenset({"placed", "paid", "shipped", "delivered", "returned", "refunded", "cancelled"})
LANGUAGES = frozenset({"zh", "en"})
CUSTOMER_COLUMNS = ("id", "name", "phone", "email", "language")
ORDER_COLUMNS = ("id", "customer_id", "placed_at", "amount", "status", "items")
# What a shop's order data say of the parcel; a file may leave any of them out.
SHIPMENT_COLUMNS = ("shipment_status", "carrier", "tracking_number", "shipped_at", "promised_date", "delivered_at")

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,30}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TRACKING_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,39}")


class CsvImportError(Exception):
    """A row (or the file) is not acceptable; ``str()`` reads ``file:line: problem``."""

    def __init__(self, path: Path, line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = path, line, problem


@dataclass(frozen=True)
class ImportResult:
    customers: int
    orders: int
    customer_ids: list[str]


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Each data row with its line number in the file, after checking the header."""
    try:
        # Not read_text: it would turn a \r inside a quoted field into \n.
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise CsvImportError(path, line, "not UTF-8 text") from None
    except OSError as error:
        raise CsvImportError(path, 0, error.strerror or str(error)) from None
    if "\x00" in text:
        # PostgreSQL stores no NUL in text, and refuses the whole import with an error of its own.
        raise CsvImportError(path, text[: text.index("\x00")].count("\n") + 1, "NUL character")
    # Lines end at \n or \r alone, as the csv module expects: str.splitlines also splits at
    # \f, \x1c or \u2028, which a field may hold.
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    record_start = 1  # where the record being read begins, for errors inside quoted fields
    try:
        header = reader.fieldnames or []
        missing = [c for c in columns if c not in header]
        if missing:
            raise CsvImportError(path, 1, f"missing column(s) {', '.join(missing)}")
        record_start = reader.line_num + 1
        for row in reader:
            if None in row or None in row.values():
                raise CsvImportError(path, record_start, f"expected {len(header)} fields")
            yield record_start, {k: v.strip() for k, v in row.items()}
            record_start = reader.line_num + 1
    except csv.Error as error:
        raise CsvImportError(path, record_start, f"bad CSV: {error}") from None


def _customer(path: Path, line: int, row: dict[str, str]) -> Customer:
    def bad(problem: str) -> CsvImportError:
        return CsvImportError(path, line, problem)

    if not _ID.fullmatch(row["id"]):
        raise bad(f"id {row['id']!r} must be 1-32 letters, digits, '-' or '_'")
    if not row["name"] or len(row["name"]) > 120:
        raise bad("name must be 1-120 characters")
    if row["phone"] and not _PHONE.fullmatch(row["phone"]):
        raise bad(f"phone {row['phone']!r} is not a phone number")
    if row["email"] and (len(row["email"]) > 254 or not _EMAIL.fullmatch(row["email"])):
        raise bad(f"email {row['email']!r} is not an e-mail address")
    if row["language"] not in LANGUAGES:
        raise bad(f"language must be one of {sorted(LANGUAGES)}, not {row['language']!r}")
    return Customer(
        id=row["id"],
        name=row["name"],
        phone=row["phone"] or None,
        email=row["email"] or None,
        language=row["language"],
    )


def _order(path: Path, line: int, row: dict[str, str], shift: timedelta) -> Order:
    def bad(problem: str) -> CsvImportError:
        return CsvImportError(path, line, problem)

    row = {**dict.fromkeys(SHIPMENT_COLUMNS, ""), **row}

    def day(column: str) -> date | None:
        if not row[column]:
            return None
        try:
            return date.fromisoformat(row[column])
        except ValueError:
            raise bad(f"{column} {row[column]!r} is not a date (YYYY-MM-DD)") from None

    if not _ID.fullmatch(row["id"]):
        raise bad(f"id {row['id']!r} must be 1-32 letters, digits, '-' or '_'")
    placed_at = day("placed_at")
    if placed_at is None:
        raise bad("placed_at is empty: it must be a date (YYYY-MM-DD)")
    try:
        amount = Decimal(row["amount"])
    except InvalidOperation:
        raise bad(f"amount {row['amount']!r} is not a number") from None
    exponent = amount.as_tuple().exponent
    if not amount.is_finite() or amount < 0 or (isinstance(exponent, int) and exponent < -2) or amount >= 10**10:
        raise bad(f"amount {row['amount']!r} must be a non-negative amount with at most 2 decimals")
    if row["status"] not in ORDER_STATUSES:
        raise bad(f"status must be one of {sorted(ORDER_STATUSES)}, not {row['status']!r}")
    shipment_status = row["shipment_status"] or SHIPMENT_OF_STATUS[row["status"]]
    if shipment_status not in SHIPMENT_STATUSES:
        raise bad(f"shipment_status must be one of {list(SHIPMENT_STATUSES)}, not {shipment_status!r}")
    carrier, tracking_number = row["carrier"], row["tracking_number"]
    if len(carrier) > 64:
        raise bad("carrier must be at most 64 characters")
    if tracking_number and not _TRACKING_NUMBER.fullmatch(tracking_number):
        raise bad(f"tracking_number {tracking_number!r} must be 4-40 letters, digits or '-'")
    if bool(carrier) != bool(tracking_number):
        raise bad("carrier and tracking_number go together: give both or neither")
    shipped_at, promised_date, delivered_at = day("shipped_at"), day("promised_date"), day("delivered_at")
    for column, when in (("shipped_at", shipped_at), ("promised_date", promised_date), ("delivered_at", delivered_at)):
        if when is not None and when < placed_at:
            raise bad(f"{column} {when} is before placed_at {placed_at}")
    if shipped_at and delivered_at and delivered_at < shipped_at:
        raise bad(f"delivered_at {delivered_at} is before shipped_at {shipped_at}")
    if shipped_at and shipment_status == "pending":
        raise bad(f"shipped_at is {shipped_at} but shipment_status is pending")
    if delivered_at and shipment_status not in ("delivered", "returned"):
        raise bad(f"delivered_at is {delivered_at} but shipment_status is {shipment_status}")
    if row["status"] == "delivered" and shipment_status != "delivered":
        raise bad(f"status is delivered but shipment_status is {shipment_status}")
    try:
        promised_date = (promised_date or placed_at + timedelta(days=PROMISED_DAYS)) + shift
        placed_at = placed_at + shift
        shipped_at = shipped_at and shipped_at + shift
        delivered_at = delivered_at and delivered_at + shift
    except OverflowError:
        raise bad("a date falls outside the calendar (after 9999-12-31 or before 0001-01-01)") from None
    return Order(
        id=row["id"],
        customer_id=row["customer_id"],
        placed_at=placed_at,
        amount=amount,
        status=row["status"],
        items=row["items"],
        shipment_status=shipment_status,
        carrier=carrier or None,
        tracking_number=tracking_number or None,
        shipped_at=shipped_at,
        promised_date=promised_date,
        delivered_at=delivered_at,
    )


def _unique(path: Path, line: int, seen: set[str], key: str, what: str) -> None:
    if key in seen:
        raise CsvImportError(path, line, f"{what} {key!r} appears twice")
    seen.add(key)


def import_crm(
    session: Session, *, customers_csv: Path, orders_csv: Path, shift_to: date | None = None
) -> ImportResult:
    """Check both files, then add or update every customer and order in ``session``.

    ``shift_to`` moves all order dates by one offset so the latest lands on that
    day: demo data stays as recent as the day it is loaded.
    """
    customers_csv, orders_csv = Path(customers_csv), Path(orders_csv)
    customers: list[tuple[int, Customer]] = []
    seen_customers: set[str] = set()
    seen_phones: set[str] = set()
    for line, row in _rows(customers_csv, CUSTOMER_COLUMNS):
        customer = _customer(customers_csv, line, row)
        _unique(customers_csv, line, seen_customers, customer.id, "customer id")
        if customer.phone:
            _unique(customers_csv, line, seen_phones, customer.phone, "phone")
        customers.append((line, customer))
    # A phone is one customer's, stored or not; the file may move phones among its own customers.
    stored = select(Customer.phone, Customer.id).where(Customer.phone.is_not(None))
    owners = dict(session.execute(stored).tuples().all())
    for line, customer in customers:
        owner = owners.get(customer.phone)
        if owner is not None and owner not in seen_customers:
            raise CsvImportError(customers_csv, line, f"phone {customer.phone!r} is stored for customer {owner!r}")

    rows = list(_rows(orders_csv, ORDER_COLUMNS))
    shift = timedelta(0)
    if shift_to and rows:
        latest = max(_order(orders_csv, line, row, shift).placed_at for line, row in rows)
        shift = shift_to - latest
    known = seen_customers | set(session.scalars(select(Customer.id)))
    orders: list[Order] = []
    seen_orders: set[str] = set()
    for line, row in rows:
        order = _order(orders_csv, line, row, shift)
        _unique(orders_csv, line, seen_orders, order.id, "order id")
        if order.customer_id not in known:
            raise CsvImportError(orders_csv, line, f"unknown customer {order.customer_id!r}")
        orders.append(order)

    # Free this file's customers' phones first: a swap between two of them would collide half-way.
    session.execute(update(Customer).where(Customer.id.in_(seen_customers)).values(phone=None))
    for record in (*(customer for _, customer in customers), *orders):
        session.merge(record)
    session.flush()
    return ImportResult(len(customers), len(orders), [customer.id for _, customer in customers])
