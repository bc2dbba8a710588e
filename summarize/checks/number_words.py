"""The words of numbers, months, scales and vague amounts, Russian and English, with their values:
the tables numbers.py builds its patterns from."""

from __future__ import annotations

from decimal import Decimal


def _forms(table: dict[str, str]) -> dict[str, Decimal]:
    """{"2": "два две"} → {"два": 2, "две": 2}: tables stay one line per value."""
    return {form: Decimal(value) for value, forms in table.items() for form in forms.split()}


RU_MONTHS = _forms(
    {
        "1": "январь января январю январем январём январе янв",
        "2": "февраль февраля февралю февралем февралём феврале фев февр",
        "3": "март марта марту мартом марте мар",
        "4": "апрель апреля апрелю апрелем апреле апр",
        "5": "май мая маю маем мае",
        "6": "июнь июня июню июнем июне июн",
        "7": "июль июля июлю июлем июле июл",
        "8": "август августа августу августом августе авг",
        "9": "сентябрь сентября сентябрю сентябрем сентябрём сентябре сен сент",
        "10": "октябрь октября октябрю октябрем октябрём октябре окт",
        "11": "ноябрь ноября ноябрю ноябрем ноябрём ноябре ноя нояб",
        "12": "декабрь декабря декабрю декабрем декабрём декабре дек",
    }
)
EN_MONTHS = _forms(
    {
        "1": "january jan",
        "2": "february feb",
        "3": "march mar",
        "4": "april apr",
        "5": "may",
        "6": "june jun",
        "7": "july jul",
        "8": "august aug",
        "9": "september sep sept",
        "10": "october oct",
        "11": "november nov",
        "12": "december dec",
    }
)
# Number words that are read and checked. "семью" (also "family") is left out on purpose.
RU_WORDS = _forms(
    {
        "1.5": "полтора полторы полутора",
        "2": "два две двух двум двумя двое двоих",
        "3": "три трех трёх трем трём тремя трое троих",
        "4": "четыре четырех четырёх четырем четырём четырьмя четверо четверых",
        "5": "пять пяти пятью пятеро пятерых",
        "6": "шесть шести шестью шестеро шестерых",
        "7": "семь семи семеро семерых",
        "8": "восемь восьми восемью восьмью восьмеро",
        "9": "девять девяти девятью девятеро",
        "10": "десять десяти десятью десятеро",
        "11": "одиннадцать одиннадцати",
        "12": "двенадцать двенадцати",
        "13": "тринадцать тринадцати",
        "14": "четырнадцать четырнадцати",
        "15": "пятнадцать пятнадцати",
        "16": "шестнадцать шестнадцати",
        "17": "семнадцать семнадцати",
        "18": "восемнадцать восемнадцати",
        "19": "девятнадцать девятнадцати",
        "20": "двадцать двадцати",
        "30": "тридцать тридцати",
        "40": "сорок сорока",
        "50": "пятьдесят пятидесяти",
        "60": "шестьдесят шестидесяти",
        "70": "семьдесят семидесяти",
        "80": "восемьдесят восьмидесяти",
        "90": "девяносто девяноста",
        "100": "сто ста",
        "200": "двести двухсот",
        "300": "триста трехсот трёхсот",
        "400": "четыреста четырехсот четырёхсот",
        "500": "пятьсот пятисот",
        "600": "шестьсот шестисот",
        "700": "семьсот семисот",
        "800": "восемьсот восьмисот",
        "900": "девятьсот девятисот",
    }
)
EN_WORDS = _forms(
    {
        "2": "two",
        "3": "three",
        "4": "four",
        "5": "five",
        "6": "six",
        "7": "seven",
        "8": "eight",
        "9": "nine",
        "10": "ten",
        "11": "eleven",
        "12": "twelve",
        "13": "thirteen",
        "14": "fourteen",
        "15": "fifteen",
        "16": "sixteen",
        "17": "seventeen",
        "18": "eighteen",
        "19": "nineteen",
        "20": "twenty",
        "30": "thirty",
        "40": "forty",
        "50": "fifty",
        "60": "sixty",
        "70": "seventy",
        "80": "eighty",
        "90": "ninety",
    }
)
# A month named alone ("в мае", "in May") is read in full forms only: "мар", "дек" alone are not months.
MONTH_ABBREVIATIONS = frozenset("янв фев февр мар апр июн июл авг сен сент окт ноя нояб дек jan feb mar apr jun jul aug sep sept oct nov dec".split())
# English months that are also common words ("may", "march") count alone only after one of these.
EN_MONTH_WORDS = frozenset({"may", "march"})
EN_MONTH_BEFORE = r"(?:in|by|since|until|till|from|of|last|next|this|early|late|mid|to|through|and|or|between|during)"
# Weekdays (0 = Monday, as datetime's weekday()): value → a regular expression for the whole word.
# "среда" is also "environment" ("окружающая среда", "в среде экспертов"): only "среду", "средам" and
# "среды"/"среде" after "со", "до", "к" count.
RU_WEEKDAYS = {
    0: "понедельник(?:а|у|ом|е|и|ам)?",
    1: "вторник(?:а|у|ом|е|и|ам)?",
    2: "сред(?:у|ам)|(?:(?<=со )|(?<=до )|(?<=к ))сред[ыеу]",
    3: "четверг(?:а|у|ом|е|и|ам)?",
    4: "пятниц(?:а|ы|е|у|ей|ам)|пятничн[а-яё]+",
    5: "суббот(?:а|ы|е|у|ой|ам)|субботн[а-яё]+",
    6: "воскресень(?:е|я|ю|ем|ям)|воскресн[а-яё]+",
}
EN_WEEKDAYS = {i: day + "s?" for i, day in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
# The last word of a compound numeral "двадцать один", "сто одна", "twenty-one": 1 added.
RU_ONES = "од(?:ин|на|но|ного|ной|ному|ним|ном|ну|ною)"
EN_ONES = "one"
# What "один" follows in a compound numeral: a tens or hundreds word ("двадцать", "сорока", "сто", "двести", "пятисот").
RU_ONES_AFTER = "(?:(?<=ать)|(?<=ати)|(?<=рок)|(?<=рока)|(?<=сят)|(?<=сяти)|(?<=сто)|(?<=ста)|(?<=сти)|(?<=сот))"
EN_ONES_AFTER = "(?:(?<=ty)|(?<=hundred))"
# A scale word that opens a number alone in the nominative, before other number words: "тысяча пятьсот".
RU_LEADING_SCALES = "тысяча|тысячу|миллион|миллиард"
# Fractions: numerator words are the number words; denominators by their value.
RU_DENOMINATORS = {
    3: "трет(?:и|ей|ям|ями|ях|ь)",
    4: "четверт(?:и|ей|ям|ями|ях|ь)",
    5: "пят(?:ых|ым|ыми)",
    6: "шест(?:ых|ым|ыми)",
    7: "седьм(?:ых|ым|ыми)",
    8: "восьм(?:ых|ым|ыми)",
    9: "девят(?:ых|ым|ыми)",
    10: "десят(?:ых|ым|ыми)",
}
EN_DENOMINATORS = {3: "thirds?", 4: "quarters?|fourths?", 5: "fifths?", 6: "sixths?", 7: "sevenths?", 8: "eighths?", 9: "ninths?", 10: "tenths?"}
# The genitive stems that open a compound adjective ("пятнадцатилетний", "двадцатипятиэтажный"):
# such a word only supports its number, like the vague words.
RU_COMPOUND_STEMS = _forms(
    {
        "2": "двух", "3": "трех трёх", "4": "четырех четырёх", "5": "пяти", "6": "шести", "7": "семи", "8": "восьми",
        "9": "девяти", "10": "десяти", "11": "одиннадцати", "12": "двенадцати", "13": "тринадцати", "14": "четырнадцати",
        "15": "пятнадцати", "16": "шестнадцати", "17": "семнадцати", "18": "восемнадцати", "19": "девятнадцати",
        "20": "двадцати", "30": "тридцати", "40": "сорока", "50": "пятидесяти", "60": "шестидесяти", "70": "семидесяти",
        "80": "восьмидесяти", "90": "девяноста", "100": "сто", "1": "одно",
    }
)  # fmt: skip
COMPOUND_ENDS = (
    "лет|дневн|суточн|недельн|месячн|часов|минутн|секундн|этажн|кратн|процентн|тысячн|миллионн|миллиардн|километров|метров"
    "|градусн|местн|серийн|томн|тонн|комнатн|разов|литров|рублев|долларов|звездочн|мачтов|ствольн|главн|сторонн|язычн"
)
HUNDRED = "hundred"  # the one word that multiplies what comes before it: "two hundred fifty" = 250
# Words too vague to flag ("один из", "twice", "a million", ordinals, "трехлетний"): they only support
# a number. Value → a regular expression for the whole word.
RU_ORDINAL = "(?:ый|ой|ая|ое|ые|ого|ому|ым|ом|ую|ых|ыми)"
RU_VAGUE = {
    Decimal("0.5"): "половин[аеуы]",
    Decimal(1): f"од(?:ин|на|но|ного|ной|ному|ним|ном|ну|нажды)|перв{RU_ORDINAL}",
    Decimal(2): f"вдвое|дважды|об[аеу]|обоих|пар[аеуы]|втор{RU_ORDINAL}|двух[а-яё]{{3,}}",
    Decimal(3): "втрое|трижды|трет(?:ий|ья|ье|ьи|ьего|ьей|ьему|ьим|ьем|ью|ьих|ьими)|тр[её]х[а-яё]{3,}",
    Decimal(4): f"вчетверо|четырежды|четв[её]рт{RU_ORDINAL}|четыр[её]х[а-яё]{{3,}}",
    Decimal(5): f"впятеро|пят{RU_ORDINAL}|пяти[а-яё]{{3,}}",
    Decimal(6): f"шест{RU_ORDINAL}|шести[а-яё]{{3,}}",
    Decimal(7): f"седьм{RU_ORDINAL}|семи[а-яё]{{3,}}",
    Decimal(8): f"восьм{RU_ORDINAL}|восьми[а-яё]{{3,}}",
    Decimal(9): f"девят{RU_ORDINAL}|девяти[а-яё]{{3,}}",
    Decimal(10): f"вдесятеро|десят(?:ок|ка){RU_ORDINAL}?|десяти[а-яё]{{3,}}",
    Decimal(12): "дюжин[аеуы]",
    Decimal(100): "сотн[яю]",
    Decimal(1000): "тысяч[аеу]|тысячн[а-яё]+|тысячелети[а-яё]+",
    Decimal(500_000): "полмиллиона",
    Decimal(10**6): "миллиона?",
    Decimal(10**9): "миллиарда?",
    Decimal(10**12): "триллиона?",
}
EN_VAGUE = {
    Decimal("0.5"): r"half(?!\s+a\s+million)",
    Decimal(1): "one|once|single|first",
    Decimal(2): "twice|double|doubled|both|pair|couple|second",
    Decimal(3): "triple|tripled|thrice|third",
    Decimal(4): "fourth|quadruple",
    Decimal(5): "fifth",
    Decimal(6): "sixth",
    Decimal(7): "seventh",
    Decimal(8): "eighth",
    Decimal(9): "ninth",
    Decimal(10): "tenth",
    Decimal(12): "dozen|twelfth",
    Decimal(100): "hundred",
    Decimal(1000): "thousand|thousandth",
    Decimal(500_000): r"half\s+a\s+million",
    Decimal(10**6): "million",
    Decimal(10**9): "billion",
    Decimal(10**12): "trillion",
}
# Scales by how their spellings begin: "тыс." "тысячи" → 1000; "mln" "million" → 10**6.
RU_SCALES = {("тыс",): Decimal(10**3), ("млн", "миллион"): Decimal(10**6), ("млрд", "миллиард"): Decimal(10**9), ("трлн", "триллион"): Decimal(10**12)}
EN_SCALES = {
    ("thousand", "k"): Decimal(10**3),
    ("million", "mln", "mn", "m"): Decimal(10**6),
    ("billion", "bn", "bln", "b"): Decimal(10**9),
    ("trillion", "tn", "trn"): Decimal(10**12),
}
ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
