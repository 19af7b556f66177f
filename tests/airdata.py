"""Stations for the fake Air4Thai: Chiang Mai's, one just outside (Lamphun), and far ones."""
from __future__ import annotations

from datetime import UTC, datetime

from tests.fakeair import station

# Monday 3 Mar 2025, 09:00 in Chiang Mai.
NOW = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
DAY = "2025-03-03"


def city_hall(pm25: str = "52.3", date: str = DAY, time: str = "09:00") -> dict:
    """35t, the station nearest to Mae Rim's centre (about 8 km)."""
    return station("35t", "ศูนย์ราชการจังหวัดเชียงใหม่", "City Hall, Chiangmai", "ต.ช้างเผือก อ.เมือง, เชียงใหม่",
                   "Chang Phueak, Mueang, Chiang Mai", "18.840633", "98.969661", date, time, pm25)


def yupparaj(pm25: str = "48.0", date: str = DAY, time: str = "09:00", lat: str = "18.7921", lon: str = "98.9903") -> dict:
    return station("36t", "โรงเรียนยุพราชวิทยาลัย", "Yupparaj Wittayalai School", "ต.ศรีภูมิ อ.เมือง, เชียงใหม่",
                   "Si Phum, Mueang, Chiang Mai", lat, lon, date, time, pm25)


def fang(pm25: str = "88.1", date: str = DAY, time: str = "09:00") -> dict:
    """A (test) station in Fang, far in the north."""
    return station("99t", "สถานีทดสอบฝาง", "Fang test station", "ต.เวียง อ.ฝาง, เชียงใหม่", "Wiang, Fang, Chiang Mai",
                   "19.9201", "99.2201", date, time, pm25)


def lamphun(pm25: str = "30.2", date: str = DAY, time: str = "09:00") -> dict:
    """68t, in Lamphun province but near Saraphi: kept."""
    return station("68t", "สนามกีฬาองค์การบริหารส่วนจังหวัดลำพูน", "Provincial Administrative Stadium",
                   "ต.ในเมือง อ.เมือง, ลำพูน", "Nai Mueang, Mueang, Lamphun", "18.567443", "99.007994", date, time, pm25)


def chiang_rai(pm25: str = "70.0", date: str = DAY, time: str = "09:00") -> dict:
    """57t, Chiang Rai: outside the province and too far from it."""
    return station("57t", "สำนักงานทรัพยากรธรรมชาติและสิ่งแวดล้อมจังหวัดเชียงราย",
                   "Natural Resources and Environment Office, Chiangrai", "ต.เวียง อ.เมือง, เชียงราย",
                   "Wiang, Mueang, Chiang Rai", "19.909242", "99.823357", date, time, pm25)


def bangkok(pm25: str = "26", date: str = DAY, time: str = "09:00") -> dict:
    return station("03t", "ริมถนนทางหลวงหมายเลข 3902", "Highway NO.3902 km.13 +600",
                   "ริมถนนกาญจนาภิเษก เขตบางขุนเทียน, กรุงเทพฯ", "Kanchanaphisek Rd, Bang Khun Thian, Bangkok",
                   "13.636514", "100.414262", date, time, pm25, stype="BKK")


def feed(**values: str) -> list[dict]:
    """The usual feed: five stations in and around Chiang Mai and two far away."""
    return [city_hall(values.get("city_hall", "52.3")), yupparaj(values.get("yupparaj", "48.0")),
            fang(values.get("fang", "88.1")), lamphun(values.get("lamphun", "30.2")),
            chiang_rai(values.get("chiang_rai", "70.0")), bangkok(values.get("bangkok", "26"))]
