"""Demo alumni: about sixty former trainees from 1983 to 2025, three with accounts."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from portal.alumni.models import Alumnus
from portal.extensions import db

SPECIALTIES = ["cardiology", "radiology", "endoscopy", "anesthesiology", "clinical_laboratory",
               "nephrology", "neonatology", "ultrasonography"]

# country: (time zone, cities, [(family, given, native)], institutions)
PEOPLE: dict[str, tuple[str, list[str], list[tuple[str, str, str]], list[str]]] = {
    "TH": ("Asia/Bangkok", ["Bangkok", "Chiang Mai", "Khon Kaen"], [
        ("Srisuk", "Anan", "อนันต์ ศรีสุข"), ("Wongsakul", "Pim", "พิม วงศ์สกุล"),
        ("Chaiyaporn", "Kittisak", "กิตติศักดิ์ ชัยพร"), ("Boonmee", "Suda", "สุดา บุญมี"),
        ("Rattanakorn", "Niran", "นิรันดร์ รัตนากร"), ("Thongchai", "Malee", "มาลี ธงชัย"),
    ], ["Siriraj Hospital", "Chiang Mai University Hospital", "Khon Kaen Hospital"]),
    "VN": ("Asia/Ho_Chi_Minh", ["Hanoi", "Ho Chi Minh City", "Da Nang"], [
        ("Nguyen", "Van Minh", "Nguyễn Văn Minh"), ("Tran", "Thi Hoa", "Trần Thị Hoa"),
        ("Le", "Quang Huy", "Lê Quang Huy"), ("Pham", "Thu Trang", "Phạm Thu Trang"),
        ("Hoang", "Duc Anh", "Hoàng Đức Anh"), ("Vu", "Thi Mai", "Vũ Thị Mai"),
    ], ["Bach Mai Hospital", "Cho Ray Hospital", "Da Nang General Hospital"]),
    "MY": ("Asia/Kuala_Lumpur", ["Kuala Lumpur", "Penang", "Kota Kinabalu"], [
        ("Abdullah", "Nurul Huda", ""), ("Lim", "Wei Ling", "林慧玲"), ("Raj", "Kumar", ""),
        ("Ismail", "Hafiz", ""), ("Tan", "Mei Chen", "陈美珍"),
    ], ["Kuala Lumpur General Hospital", "Penang General Hospital", "Queen Elizabeth Hospital"]),
    "ID": ("Asia/Jakarta", ["Jakarta", "Surabaya", "Bandung"], [
        ("Susanto", "Budi", ""), ("Wijaya", "Dewi", ""), ("Hartono", "Agus", ""),
        ("Sukarno", "", ""), ("Lestari", "Sri", ""),
    ], ["Cipto Mangunkusumo Hospital", "Dr. Soetomo Hospital", "Hasan Sadikin Hospital"]),
    "PH": ("Asia/Manila", ["Manila", "Cebu", "Davao"], [
        ("Santos", "Maria Luisa", ""), ("Reyes", "Jose Miguel", ""), ("Cruz", "Ana", ""),
        ("Garcia", "Ramon", ""), ("Mendoza", "Liza", ""),
    ], ["Philippine General Hospital", "Vicente Sotto Hospital", "Southern Philippines MC"]),
    "MM": ("Asia/Yangon", ["Yangon", "Mandalay"], [
        ("Aung", "Kyaw", "ကျော်အောင်"), ("Htun", "Thida", "သီတာထွန်း"), ("Win", "Zaw", "ဇော်ဝင်း"),
        ("Myint", "Hla", ""),
    ], ["Yangon General Hospital", "Mandalay General Hospital"]),
    "LA": ("Asia/Vientiane", ["Vientiane", "Luang Prabang"], [
        ("Phommachanh", "Souk", "ສຸກ ພົມມະຈັນ"), ("Vongsa", "Keo", ""),
        ("Sisavath", "Bounmy", ""),
    ], ["Mahosot Hospital", "Setthathirath Hospital"]),
    "KH": ("Asia/Phnom_Penh", ["Phnom Penh", "Siem Reap"], [
        ("Sok", "Dara", "សុខ ដារា"), ("Chan", "Sophea", ""), ("Kim", "Rithy", ""),
    ], ["Calmette Hospital", "Angkor Hospital"]),
    "MN": ("Asia/Ulaanbaatar", ["Ulaanbaatar"], [
        ("Bat-Erdene", "Oyun", "Батэрдэнэ Оюун"), ("Ganbold", "Tuya", ""),
    ], ["First Central Hospital of Mongolia"]),
    "LK": ("Asia/Colombo", ["Colombo", "Kandy"], [
        ("Perera", "Nimal", ""), ("Fernando", "Dilani", ""),
    ], ["National Hospital of Sri Lanka", "Teaching Hospital Kandy"]),
}

# The demo accounts' own records (people["alumni"][i]).
LINKED = [
    {"family_name": "Prasert", "given_names": "Somchai", "native_name": "สมชาย ประเสริฐ",
     "country": "TH", "city": "Bangkok", "specialty": "cardiology", "cycle_year": 2019,
     "institution_then": "Siriraj Hospital", "institution_now": "Siriraj Hospital",
     "position": "Interventional cardiologist", "timezone": "Asia/Bangkok",
     "date_of_birth": date(1984, 5, 12), "directory_visible": True,
     "directory_show_email": True},
    {"family_name": "Nguyen", "given_names": "Thi Lan", "native_name": "Nguyễn Thị Lan",
     "country": "VN", "city": "Hanoi", "specialty": "radiology", "cycle_year": 2021,
     "institution_then": "Bach Mai Hospital", "institution_now": "Bach Mai Hospital",
     "position": "Radiologist", "timezone": "Asia/Ho_Chi_Minh",
     "date_of_birth": date(1988, 9, 3), "directory_visible": True},
    {"family_name": "Faizal", "given_names": "Ahmad", "native_name": "",
     "country": "MY", "city": "Kuala Lumpur", "specialty": "endoscopy", "cycle_year": 2018,
     "institution_then": "Kuala Lumpur General Hospital", "institution_now": "",
     "position": "", "timezone": "Asia/Kuala_Lumpur", "date_of_birth": date(1982, 1, 20),
     "directory_visible": False},
]


def load(people: dict[str, Any]) -> None:
    rng = random.Random(1983)  # the same demo every time
    for user, values in zip(people["alumni"], LINKED, strict=True):
        db.session.add(Alumnus(user_id=user.id, email=user.email, source="import", **values))
    records = []
    index = 0
    for country, (zone, cities, names, institutions) in PEOPLE.items():
        for family, given, native in names:
            for _ in range(1 if index % 3 else 2):  # some names trained twice over the years
                year = 1983 + (index * 7) % 43  # spread over 1983..2025
                index += 1
                institution = rng.choice(institutions)
                visible = index % 3 == 0
                records.append(Alumnus(
                    family_name=family, given_names=given, native_name=native,
                    date_of_birth=date(year - rng.randint(28, 40), rng.randint(1, 12),
                                       rng.randint(1, 28)),
                    email=f"{family}.{given or 'x'}.{index}@alumni.example.org"
                    .lower().replace(" ", "") if index % 5 else None,
                    cycle_year=year, specialty=rng.choice(SPECIALTIES), country=country,
                    city=rng.choice(cities), institution_then=institution,
                    institution_now=institution if index % 4 else rng.choice(institutions),
                    position=rng.choice(["Physician", "Head of department", "Senior nurse",
                                         "Radiologic technologist", "Lecturer", ""]),
                    timezone=zone, source="import",
                    directory_visible=visible, directory_show_email=visible and index % 2 == 0,
                ))
    db.session.add_all(records)
    db.session.flush()
