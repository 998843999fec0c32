"""Write a realistic ledger CSV over 2022-2024 whose 2023 figures are exactly those of the bureau's 2023 report.

    .venv/bin/python scripts/make_seed_ledger.py --out tests/data/ledger_seed.csv

Deterministic (fixed seed). Cells mix codes and 中文 labels, 1/0 and 是/否, empty persons (= 1) and decimal
amounts, and the file is written as Excel saves "CSV UTF-8": with a BOM and CRLF line ends. Summaries are
generic phrases: no names, phones or ID numbers.
"""
from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hotline.codes import CATEGORIES, OUTCOMES, SERVICES

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ("id", "date", "service", "category", "migrant_worker", "persons",
           "street", "community", "outcome", "amount", "summary")

# The 2023 report: “受理的农民工案件共74件182人次、解答“12348”电话咨询197个、接待农民工来访214人次 … 顾问律师共解答
# 居(村)民法律咨询900多件，参与纠纷调解10件 … 法律援助中心共指派法律援助案件127件 … 排查出矛盾纠纷749件，调处749件，
# 调处率100%，调解成功748件，调解成功率99.87%”. 900多件 is taken as exactly 900.
REPORT_2023 = {
    "migrant_worker_cases": 74,
    "migrant_worker_case_persons": 182,
    "hotline_12348_consultations": 197,
    "migrant_worker_visit_persons": 214,
    "advisor_consultations": 900,
    "advisor_mediations": 10,
    "legal_aid_assigned": 127,
    "disputes_found": 749,
    "disputes_handled": 749,
    "disputes_mediated_success": 748,
}
# The same report's 法律援助 and 普法 sentences: “共指派律师到检察院办理认罪认罚从宽案498件、提供法律帮助538人次” and
# “提供各类法律咨询350余人次” (350余 taken as exactly 350). These rows are appended after the rows above, drawn
# from their own random stream, so every earlier line of the file stays as it was.
REPORT_2023_MORE = {
    "plea_leniency_cases": 498,
    "plea_leniency_help_persons": 538,
    "publicity_consultation_persons": 350,
}

# Wage claims peak before the Spring Festival; other matters are flatter.
MONTH_WEIGHTS = (14, 11, 7, 7, 7, 7, 7, 7, 7, 8, 9, 13)
CATEGORY_WEIGHTS = {
    "hotline_12348": {"wage_arrears": 30, "labor_dispute": 15, "family_dispute": 15, "contract_debt": 12,
                      "traffic_accident": 8, "property": 8, "work_injury": 6, "criminal": 2, "administrative": 2,
                      "other": 2},
    "visit": {"wage_arrears": 35, "labor_dispute": 15, "family_dispute": 15, "contract_debt": 10, "work_injury": 10,
              "traffic_accident": 5, "neighbor_dispute": 5, "other": 5},
    "online": {"contract_debt": 20, "family_dispute": 20, "labor_dispute": 20, "wage_arrears": 15, "property": 15,
               "other": 10},
    "advisor": {"family_dispute": 25, "neighbor_dispute": 20, "property": 20, "contract_debt": 20, "other": 15},
    "legal_aid": {"wage_arrears": 45, "work_injury": 15, "family_dispute": 15, "traffic_accident": 10,
                  "criminal": 10, "labor_dispute": 5},
    "mediation": {"neighbor_dispute": 40, "family_dispute": 25, "property": 15, "contract_debt": 15, "other": 5},
    "plea_leniency": {"criminal": 1},
    "publicity": {"labor_dispute": 20, "wage_arrears": 20, "family_dispute": 20, "contract_debt": 15, "property": 10,
                  "traffic_accident": 5, "other": 10},
}
SUMMARIES = {
    "wage_arrears": "咨询追讨拖欠工资", "work_injury": "咨询工伤认定与赔偿", "labor_dispute": "咨询劳动合同与解除",
    "family_dispute": "咨询离婚及子女抚养", "traffic_accident": "咨询交通事故赔偿", "neighbor_dispute": "邻里之间漏水纠纷",
    "contract_debt": "咨询民间借贷纠纷", "property": "咨询物业费纠纷", "criminal": "咨询刑事案件程序",
    "administrative": "咨询行政复议程序", "other": "其他法律咨询",
}

SPECIAL_SUMMARIES = {"publicity": "法治宣传活动现场解答："}


@dataclass
class Record:
    service: str
    outcome: str
    migrant: bool = False
    persons: int = 1
    category: str | None = None


def _streets() -> list[tuple[str, str]]:
    with (ROOT / "data" / "directory_sample.csv").open(encoding="utf-8-sig", newline="") as f:
        return [(row["street"], row["community"]) for row in csv.DictReader(f)]


def _partition(rng: random.Random, total: int, parts: int, cap: int) -> list[int]:
    """`parts` whole numbers in 1..cap summing to `total`."""
    assert parts <= total <= parts * cap
    sizes = [1] * parts
    left = total - parts
    while left:
        i = rng.randrange(parts)
        if sizes[i] < cap:
            sizes[i] += 1
            left -= 1
    return sizes


def _year_2023(rng: random.Random) -> list[Record]:
    """Records whose figures are exactly REPORT_2023, padded with records that none of the figures count."""
    r = REPORT_2023
    out: list[Record] = []
    # Legal aid: 74 migrant-worker cases (accepted or assigned) covering 182 persons; 127 assigned in all.
    migrant_assigned = 58
    for i, persons in enumerate(_partition(rng, r["migrant_worker_case_persons"], r["migrant_worker_cases"], 12)):
        out.append(Record("legal_aid", "assigned" if i < migrant_assigned else "accepted", True, persons, "wage_arrears"
                          if rng.random() < 0.8 else "work_injury"))
    out += [Record("legal_aid", "assigned") for _ in range(r["legal_aid_assigned"] - migrant_assigned)]
    out += [Record("legal_aid", "accepted") for _ in range(15)]
    out += [Record("legal_aid", "rejected", rng.random() < 0.4) for _ in range(11)]
    # Visits: migrant workers' visits total 214 persons; other visitors are not in that figure.
    out += [Record("visit", rng.choice(("answered", "referred")), True, p, "wage_arrears")
            for p in _partition(rng, r["migrant_worker_visit_persons"], 131, 6)]
    out += [Record("visit", rng.choice(("answered", "answered", "referred"))) for _ in range(236)]
    out += [Record("hotline_12348", rng.choice(("answered",) * 4 + ("referred",)), rng.random() < 0.3)
            for _ in range(r["hotline_12348_consultations"])]
    out += [Record("advisor", "mediated") for _ in range(r["advisor_mediations"])]
    out += [Record("advisor", "answered") for _ in range(r["advisor_consultations"] - r["advisor_mediations"])]
    failed = r["disputes_handled"] - r["disputes_mediated_success"]
    pending = r["disputes_found"] - r["disputes_handled"]
    out += [Record("mediation", "success") for _ in range(r["disputes_mediated_success"])]
    out += [Record("mediation", "failed") for _ in range(failed)] + [Record("mediation", "pending")
                                                                      for _ in range(pending)]
    out += [Record("online", rng.choice(("answered", "answered", "referred"))) for _ in range(284)]
    return out


def _other_year(rng: random.Random, scale: float) -> list[Record]:
    """A plausible year around the 2023 volumes, no exact figures."""
    def n(base: int) -> int:
        return max(1, round(base * scale * rng.uniform(0.9, 1.1)))

    out: list[Record] = []
    out += [Record("legal_aid", rng.choice(("assigned", "assigned", "accepted")), True, rng.randint(1, 8), "wage_arrears")
            for _ in range(n(70))]
    out += [Record("legal_aid", rng.choice(("assigned", "accepted", "rejected"))) for _ in range(n(90))]
    out += [Record("visit", "answered", rng.random() < 0.35, rng.choice((1, 1, 1, 2, 3))) for _ in range(n(360))]
    out += [Record("hotline_12348", rng.choice(("answered", "referred")), rng.random() < 0.3) for _ in range(n(190))]
    out += [Record("advisor", "mediated" if rng.random() < 0.012 else "answered") for _ in range(n(880))]
    out += [Record("mediation", rng.choices(("success", "failed", "pending"), (97, 2, 1))[0]) for _ in range(n(730))]
    out += [Record("online", "answered") for _ in range(n(250))]
    return out


def _more_services(rng: random.Random, year: int) -> list[Record]:
    """认罪认罚 cases (one row per case, persons = 法律帮助人次) and 普法 events (persons = 人次 answered there)."""
    if year == 2023:
        r = REPORT_2023_MORE
        cases, helped, publicity = r["plea_leniency_cases"], r["plea_leniency_help_persons"], \
            r["publicity_consultation_persons"]
    else:  # a plausible year around 2023, no exact figures
        cases = round(498 * rng.uniform(0.85, 1.15))
        helped, publicity = cases + rng.randint(20, 60), rng.randint(280, 420)
    events = publicity // 12
    out = [Record("plea_leniency", "assigned", False, p, "criminal") for p in _partition(rng, helped, cases, 3)]
    out += [Record("publicity", "answered", False, p) for p in _partition(rng, publicity, events, 30)]
    return out


def _random_day(rng: random.Random, year: int) -> date:
    month = rng.choices(range(1, 13), MONTH_WEIGHTS)[0]
    first = date(year, month, 1)
    days = ((date(year + month // 12, month % 12 + 1, 1)) - first).days
    return first + timedelta(days=rng.randrange(days))


def _cells(rng: random.Random, idx: int, day: date, rec: Record, places: list[tuple[str, str]]) -> list[str]:
    """One ledger row as an operator might type it: codes or labels, 1/0 or 是/否, persons left empty when 1."""
    category = rec.category or rng.choices(*zip(*CATEGORY_WEIGHTS[rec.service].items(), strict=True))[0]
    labels = rng.random() < 0.5
    street, community = rng.choice(places) if rng.random() < 0.93 else ("", "")
    if rec.service == "hotline_12348" and rng.random() < 0.5:
        community = ""  # callers often give only the street
    amount = ""
    if category == "wage_arrears" and rng.random() < 0.7 and rec.service != "publicity":
        amount = f"{rng.randint(8, 900) * 100 * rec.persons}" + rng.choice(("", "", ".00", ".50"))
    return [
        f"{day.year}-{idx:05d}",
        day.isoformat(),
        SERVICES[rec.service] if labels else rec.service,
        CATEGORIES[category] if labels else category,
        ("是" if rec.migrant else "否") if labels else ("1" if rec.migrant else "0"),
        "" if rec.persons == 1 and rng.random() < 0.6 else str(rec.persons),
        street,
        community,
        OUTCOMES[rec.outcome] if labels else rec.outcome,
        amount,
        ("认罪认罚从宽案件，值班律师提供法律帮助" if rec.service == "plea_leniency" else
         SPECIAL_SUMMARIES.get(rec.service, "") + SUMMARIES[category])
        + ("，已告知申请法律援助" if rec.service == "hotline_12348" and rng.random() < 0.2 else ""),
    ]


def write_ledger(out: Path, *, seed: int = 12348, bom: bool = True) -> int:
    rng = random.Random(seed)
    places = _streets()
    years = {2022: _other_year(rng, 0.92), 2023: _year_2023(rng), 2024: _other_year(rng, 1.06)}
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with out.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for year, records in years.items():
            dated = sorted(((_random_day(rng, year), rec) for rec in records), key=lambda dr: dr[0])
            for idx, (day, rec) in enumerate(dated, start=1):
                writer.writerow(_cells(rng, idx, day, rec, places))
                rows += 1
        # The two services added later, at the end of the file with ids of their own (a ledger need not be sorted).
        more = random.Random(seed + 1)
        for year in years:
            dated = sorted(((_random_day(more, year), rec) for rec in _more_services(more, year)), key=lambda dr: dr[0])
            for idx, (day, rec) in enumerate(dated, start=1):
                cells = _cells(more, idx, day, rec, places)
                cells[0] = f"{year}-P{idx:04d}"
                writer.writerow(cells)
                rows += 1
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "ledger_seed.csv")
    parser.add_argument("--seed", type=int, default=12348)
    parser.add_argument("--no-bom", action="store_true", help="write plain UTF-8 without Excel's BOM")
    args = parser.parse_args()
    rows = write_ledger(args.out, seed=args.seed, bom=not args.no_bom)
    print(f"wrote {rows} rows to {args.out}")


if __name__ == "__main__":
    main()
