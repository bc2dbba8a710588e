"""Probe sets for the summary check: per class of everyday Russian (and English translations) the
check once misread, a summary that changed something beside faithful paraphrases of the same
article. Sentences are written for these probes, in the style of Russian news; none is copied.

A `Probe` is (article, Russian summary, English translation or None, changed): a changed probe is
caught when the check flags anything, a faithful one is a false flag when it does. Translation
probes give the Russian summary as the article, so only the translation can be at fault.
`SPLITS` are texts whose sentences or lead must come out as written.
"""

from __future__ import annotations

from typing import NamedTuple


class Probe(NamedTuple):
    article: str
    summary: str
    english: str | None
    changed: bool


def same(article: str, *summaries: str) -> list[Probe]:
    return [Probe(article, s, None, False) for s in summaries]


def changed(article: str, *summaries: str) -> list[Probe]:
    return [Probe(article, s, None, True) for s in summaries]


def translated(russian: str, english: str, is_changed: bool) -> Probe:
    return Probe(russian, russian, english, is_changed)


WEEK = "Заседание совета директоров прошло в среду, 5 июня 2024 года. Следующее назначено на пятницу."
MAY = "В мае цены на бензин выросли на 3%, сообщил Росстат. В июле рост замедлился."
DATED = "Форум откроется 5 мая и продлится три дня."
LISTED = "На переговорах Россию представляли Сергей Лавров и Михаил Галузин, Турцию — Хакан Фидан."
MET = "Владимир Путин поговорил вчера с Сергеем Собяниным о строительстве метро."
PLACES = "В Нижнем Новгороде открыли музей Великой Отечественной войны. Северная Корея усилила южную границу."
MONEY = "Бюджет программы составит от 10 до 15 млн рублей, а расходы на рекламу — от 300 млн до 400 млн."
SHARE = "За год цены выросли на 21%, а выручка — на 101 млн рублей. Две трети опрошенных довольны."
AMOUNT = "Компания получила 3,2 млн рублей субсидий, а регион — 2,17 млрд рублей. На стадион пришли 1500 зрителей."
FRACTION = "Две трети жителей поддержали проект, а три четверти депутатов проголосовали за него."
MAYOR = "Мэр Москвы Сергей Собянин открыл станцию. Глава МИД Украины Дмитрий Кулеба и министр Сергей Лавров не встретились."
MEDIA = "Как сообщают СМИ, Министерство иностранных дел США сделало заявление."
BANK = "Ставку 25.10.24 снизил Банк России, сообщил регулятор."
DECIMAL = "Выручка банка составила 1,250 млрд рублей."
DECADE = "Дом построили в 1990-х годах, пятнадцатилетний ремонт закончился. На счете было 1.500.000 рублей."
ISO = "Отчет опубликовали 5 июня 2024 года."

PROBES: dict[str, list[Probe]] = {
    "weekday": same(WEEK, "Совет директоров заседал в среду.", "Совет директоров заседал 5 июня, в среду.", "Заседание прошло в среду, следующее — в пятницу.")
    + changed(WEEK, "Совет директоров заседал во вторник.", "Следующее заседание назначено на четверг.", "Заседание прошло в понедельник.")
    + [
        translated("Совет заседал в среду.", "The board met on Wednesday.", False),
        translated("Совет заседал в среду.", "The board met on Tuesday.", True),
    ],
    "month": same(MAY, "В мае бензин подорожал на 3%.", "Рост цен в июле замедлился.")
    + same(DATED, "Форум пройдет в мае.")
    + changed(MAY, "В июне бензин подорожал на 3%.", "Рост цен замедлился в августе.")
    + changed(DATED, "Форум пройдет в июне.")
    + [translated("В мае цены выросли.", "Prices rose in May.", False), translated("В мае цены выросли.", "Prices rose in June.", True)],
    "first name of a neighbour": same(
        LISTED, "Сергей Лавров и Михаил Галузин провели переговоры.", "Россию представлял Лавров.", "Хакан Фидан представлял Турцию."
    )
    + changed(LISTED, "Михаил Лавров провел переговоры.", "Сергей Галузин провел переговоры.", "Михаил Фидан представлял Турцию."),
    "name window": same(MET, "Владимир Путин поговорил с Сергеем Собяниным.", "Путин обсудил метро с Собяниным.")
    + changed(MET, "Сергей Путин поговорил с Собяниным.", "Владимир Собянин обсудил метро."),
    "range in words": same(MONEY, "Бюджет составит от 10 млн до 15 млн рублей.", "Бюджет составит 10–15 млн рублей.", "На рекламу потратят 300–400 млн.")
    + changed(MONEY, "Бюджет составит от 10 до 25 млн рублей.", "На рекламу потратят 300–500 млн.")
    + [
        translated("Бюджет составит 10–15 млн рублей.", "The budget will be from 10 to 15 million rubles.", False),
        translated("Бюджет составит 10–15 млн рублей.", "The budget will be 10 million to 15 million rubles.", False),
        translated("Бюджет составит 10–15 млн рублей.", "The budget will be 10 to 16 million rubles.", True),
    ],
    "compound with один": same(
        SHARE, "Цены выросли на двадцать один процент.", "Доля выросла до двадцати одного процента.", "Выручка выросла на сто один миллион рублей."
    )
    + changed(SHARE, "Цены выросли на тридцать один процент.", "Выручка выросла на сто одиннадцать миллионов."),
    "compound amount": same(
        AMOUNT, "Компания получила 3 млн 200 тыс. рублей.", "Регион получил 2 млрд 170 млн рублей.", "На стадион пришли тысяча пятьсот зрителей."
    )
    + changed(AMOUNT, "Компания получила 3 млн 400 тыс. рублей.", "Регион получил 2 млрд 710 млн рублей.", "На стадион пришли тысяча шестьсот зрителей."),
    "fraction": same(FRACTION, "Проект поддержали 2/3 жителей.", "Две трети жителей за проект.")
    + same("Проект поддержали 66% жителей и 75% депутатов.", "Проект поддержали две трети жителей и три четверти депутатов.")
    + changed(FRACTION, "Проект поддержали три четверти жителей и три пятых депутатов."),
    "initials": same(MAYOR, "С. Собянин открыл станцию.", "Д. Кулеба и С. Лавров не встретились.")
    + changed(MAYOR, "К. Кулеба не встретился с Лавровым.", "В. Лавров не встретился с Кулебой.", "А. Собянин открыл станцию."),
    "multi-word place": same(PLACES, "Музей открыли в Нижнем Новгороде.", "Северная Корея укрепила границу.")
    + changed(PLACES, "Музей открыли в Великом Новгороде.", "Южная Корея усилила границу."),
    "generic source": same(MEDIA, "Как сообщают СМИ, МИД США выступил с заявлением.", "Об этом сообщили СМИ.")
    + changed(MEDIA, "Глава МИД США Кристофер Кребс сделал заявление."),
    "English spelling": [
        translated("Сделка стоила 425 млн долларов.", "The deal cost $425m.", False),
        translated("Сделка стоила 2,17 млрд долларов.", "The deal cost $2.17 bln.", False),
        translated("Пришли 45 тыс. человек.", "45k people came.", False),
        translated("Цены выросли на 21%.", "Prices rose by twenty-one percent.", False),
        translated("Встреча началась в 15:00.", "The meeting began at 3 p.m.", False),
        translated("Пришли 100 тыс. человек.", "A hundred thousand people came.", False),
        translated("Выборы пройдут 25.10.2024.", "The election will be held on 10/25/2024.", False),
        translated("Сезон 2023-2024 закончился.", "The 2023-2024 season ended.", False),
        translated("Сделка стоила 425 млн долларов.", "The deal cost $452m.", True),
        translated("Пришли 45 тыс. человек.", "54k people came.", True),
        translated("Встреча началась в 15:00.", "The meeting began at 5 p.m.", True),
        translated("Выборы пройдут 25.10.2024.", "The election will be held on 10/26/2024.", True),
    ],
    "decimal comma with a scale": same(DECIMAL, "Выручка банка — 1,25 млрд рублей.", "Выручка банка составила 1,250 млрд рублей.")
    + changed(DECIMAL, "Выручка банка составила 1 250 млрд рублей.", "Выручка банка составила 1,35 млрд рублей."),
    "dates and decades": same(ISO, "Отчет вышел 2024-06-05.")
    + same(DECADE, "Дом построен в 90-х.", "Ремонт был 15-летним.", "На счете было 1 500 000 рублей.")
    + changed(ISO, "Отчет вышел 2024-07-05.")
    + changed(DECADE, "Дом построен в 80-х.", "На счете было 1.600.000 рублей."),
    "name artefacts": same(BANK, "Банк России 25.10.24 снизил ставку.") + same("Гуманитарную помощь доставили в Курск.", "Гумпомощь доставили в Курск."),
}

# (text, what the first sentence of its lead must be)
LEADS = [
    ("Москва, 14 авг. — РИА Новости. Власти открыли новый мост через реку. Он стал самым длинным.", "Власти открыли новый мост через реку."),
    ("МОСКВА, 14 августа. /ТАСС/. Власти открыли новый мост через реку. Он стал самым длинным.", "Власти открыли новый мост через реку."),
    ("Казань, 3 сент. — РИА Новости. Жители собрали 5 тонн мусора. Акция продлится неделю.", "Жители собрали 5 тонн мусора."),
]
# (text, its sentences)
SPLITS = [
    (
        "на склад привезли 500 шт. деталей и засл. арт. россии выступил там. в янв. было холодно.",
        ["на склад привезли 500 шт. деталей и засл. арт. россии выступил там.", "в янв. было холодно."],
    ),
    (
        "с 1 февр. и до 5 авг. работы шли. с сент. по дек. их нет. с окт. по нояб. тоже.",
        ["с 1 февр. и до 5 авг. работы шли.", "с сент. по дек. их нет.", "с окт. по нояб. тоже."],
    ),
    ("рост составил 8,6 %. далее цены упали.", ["рост составил 8,6 %.", "далее цены упали."]),
    ("данные приведены ниже (см. табл. 2). цены упали.", ["данные приведены ниже (см. табл. 2).", "цены упали."]),
]
