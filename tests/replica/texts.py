"""Word banks and parallel templates for the replica's stories (az, en, ru).

Every template is a triple (az, en, ru) of str.format strings over the same
slots, so the three editions of a story say the same thing. Slot values are
chosen per story in content.py; the forms below cover the grammatical cases the
templates need (genitive, locative) so the Azerbaijani and Russian read naturally.
All strings here are clean text: NFC, single spaces, no invisible characters.
"""

from __future__ import annotations

# name forms: az, az genitive, en, ru, ru genitive
COUNTRIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("Azərbaycan", "Azərbaycanın", "Azerbaijan", "Азербайджан", "Азербайджана"),
    ("Gürcüstan", "Gürcüstanın", "Georgia", "Грузия", "Грузии"),
    ("Türkiyə", "Türkiyənin", "Türkiye", "Турция", "Турции"),
    ("Qazaxıstan", "Qazaxıstanın", "Kazakhstan", "Казахстан", "Казахстана"),
    ("Özbəkistan", "Özbəkistanın", "Uzbekistan", "Узбекистан", "Узбекистана"),
    ("İran", "İranın", "Iran", "Иран", "Ирана"),
    ("Çin", "Çinin", "China", "Китай", "Китая"),
    ("Pakistan", "Pakistanın", "Pakistan", "Пакистан", "Пакистана"),
    ("Litva", "Litvanın", "Lithuania", "Литва", "Литвы"),
    ("İtaliya", "İtaliyanın", "Italy", "Италия", "Италии"),
    ("Almaniya", "Almaniyanın", "Germany", "Германия", "Германии"),
    ("Fransa", "Fransanın", "France", "Франция", "Франции"),
    ("Macarıstan", "Macarıstanın", "Hungary", "Венгрия", "Венгрии"),
    ("Səudiyyə Ərəbistanı", "Səudiyyə Ərəbistanının", "Saudi Arabia", "Саудовская Аравия", "Саудовской Аравии"),
    ("Türkmənistan", "Türkmənistanın", "Turkmenistan", "Туркменистан", "Туркменистана"),
    ("Qırğızıstan", "Qırğızıstanın", "Kyrgyzstan", "Кыргызстан", "Кыргызстана"),
    ("Ukrayna", "Ukraynanın", "Ukraine", "Украина", "Украины"),
    ("Rumıniya", "Rumıniyanın", "Romania", "Румыния", "Румынии"),
    ("Bolqarıstan", "Bolqarıstanın", "Bulgaria", "Болгария", "Болгарии"),
    ("Yaponiya", "Yaponiyanın", "Japan", "Япония", "Японии"),
    ("Cənubi Koreya", "Cənubi Koreyanın", "South Korea", "Южная Корея", "Южной Кореи"),
    ("İsrail", "İsrailin", "Israel", "Израиль", "Израиля"),
    ("Misir", "Misirin", "Egypt", "Египет", "Египта"),
    ("Serbiya", "Serbiyanın", "Serbia", "Сербия", "Сербии"),
    ("Polşa", "Polşanın", "Poland", "Польша", "Польши"),
    ("Belçika", "Belçikanın", "Belgium", "Бельгия", "Бельгии"),
    ("İndoneziya", "İndoneziyanın", "Indonesia", "Индонезия", "Индонезии"),
    ("Malayziya", "Malayziyanın", "Malaysia", "Малайзия", "Малайзии"),
    ("Oman", "Omanın", "Oman", "Оман", "Омана"),
    ("Qətər", "Qətərin", "Qatar", "Катар", "Катара"),
)

# az, en, ru, ru genitive
ORGS: tuple[tuple[str, str, str, str], ...] = (
    ("SOCAR", "SOCAR", "SOCAR", "SOCAR"),
    ("AZAL", "AZAL", "AZAL", "AZAL"),
    ("Mərkəzi Bank", "Central Bank", "Центробанк", "Центробанка"),
    ("Dövlət Neft Fondu", "State Oil Fund", "Госнефтефонд", "Госнефтефонда"),
    ("ADY", "ADY", "АЖД", "АЖД"),
    ("Azərenerji", "Azerenerji", "Азерэнержи", "Азерэнержи"),
    ("Azərişıq", "Azerishig", "Азеришыг", "Азеришыг"),
    ("Bakı Fond Birjası", "Baku Stock Exchange", "Бакинская фондовая биржа", "Бакинской фондовой биржи"),
    ("Kapital Bank", "Kapital Bank", "Kapital Bank", "Kapital Bank"),
    ("PAŞA Bank", "PASHA Bank", "PASHA Bank", "PASHA Bank"),
    ("CITIC Construction", "CITIC Construction", "CITIC Construction", "CITIC Construction"),
    ("bp", "bp", "bp", "bp"),
    ("TotalEnergies", "TotalEnergies", "TotalEnergies", "TotalEnergies"),
    ("Ernst & Young", "Ernst & Young", "Ernst & Young", "Ernst & Young"),
    ("Procter & Gamble", "Procter & Gamble", "Procter & Gamble", "Procter & Gamble"),
)

PERSONS: tuple[tuple[str, str, str], ...] = (
    ("Rövşən Nəcəf", "Rovshan Najaf", "Ровшан Наджаф"),
    ("Ceyhun Bayramov", "Jeyhun Bayramov", "Джейхун Байрамов"),
    ("Mikayıl Cabbarov", "Mikayil Jabbarov", "Микаил Джаббаров"),
    ("Pərviz Şahbazov", "Parviz Shahbazov", "Парвиз Шахбазов"),
    ("Samir Şərifov", "Samir Sharifov", "Самир Шарифов"),
    ("Taleh Kazımov", "Taleh Kazimov", "Талех Кязимов"),
    ("Əli Əsədov", "Ali Asadov", "Али Асадов"),
    ("Rəşad Nəbiyev", "Rashad Nabiyev", "Рашад Набиев"),
    ("Anar Kərimov", "Anar Karimov", "Анар Керимов"),
    ("Fərid Qayıbov", "Farid Gayibov", "Фарид Гаибов"),
    ("Hikmət Hacıyev", "Hikmet Hajiyev", "Хикмет Гаджиев"),
    ("Emin Hüseynov", "Emin Huseynov", "Эмин Гусейнов"),
    ("Şahin Mustafayev", "Shahin Mustafayev", "Шахин Мустафаев"),
)

CITIES: tuple[tuple[str, str, str], ...] = (
    ("Bakı", "Baku", "Баку"),
    ("Gəncə", "Ganja", "Гянджа"),
    ("Şuşa", "Shusha", "Шуша"),
    ("Sumqayıt", "Sumgayit", "Сумгайыт"),
    ("Naxçıvan", "Nakhchivan", "Нахчыван"),
    ("Lənkəran", "Lankaran", "Лянкяран"),
    ("Şəki", "Shaki", "Шеки"),
    ("Quba", "Guba", "Губа"),
    ("Ağdam", "Aghdam", "Агдам"),
    ("Füzuli", "Fuzuli", "Физули"),
    ("Xankəndi", "Khankandi", "Ханкенди"),
    ("Zəngilan", "Zangilan", "Зангилан"),
)

TEAMS: tuple[tuple[str, str, str], ...] = (
    ("“Qarabağ”", "Qarabag", "«Карабах»"),
    ("“Neftçi”", "Neftchi", "«Нефтчи»"),
    ("“Sabah”", "Sabah", "«Сабах»"),
    ("“Zirə”", "Zira", "«Зиря»"),
    ("“Sumqayıt”", "Sumgayit", "«Сумгайыт»"),
    ("“Turan Tovuz”", "Turan Tovuz", "«Туран Товуз»"),
)

POETS: tuple[tuple[str, str, str], ...] = (
    ("Xaqani Şirvani", "Khagani Shirvani", "Хагани Ширвани"),
    ("Nizami Gəncəvi", "Nizami Ganjavi", "Низами Гянджеви"),
    ("Üzeyir Hacıbəyli", "Uzeyir Hajibeyli", "Узеир Гаджибейли"),
    ("Məhəmməd Füzuli", "Muhammad Fuzuli", "Мухаммед Физули"),
)

EXHIBITIONS: tuple[tuple[str, str, str], ...] = (
    ("Qarabağ xalçaları", "Karabakh carpets", "Карабахские ковры"),
    ("Şuşa — mədəniyyət paytaxtı", "Shusha — cultural capital", "Шуша — культурная столица"),
    ("İpək Yolu irsi", "Silk Road heritage", "Наследие Шелкового пути"),
    ("Bakı — şəhər və dəniz", "Baku — city and sea", "Баку — город и море"),
)

UPDOWN: tuple[tuple[str, str, str], ...] = (
    ("bahalaşıb", "rises", "дорожает"),
    ("ucuzlaşıb", "falls", "дешевеет"),
)

PURPOSES: tuple[tuple[str, str, str], ...] = (
    ("yolların təmiri", "road repairs", "ремонт дорог"),
    ("məktəb tikintisi", "school construction", "строительство школ"),
    ("su təchizatı", "water supply", "водоснабжение"),
    ("qazlaşdırma", "gasification", "газификацию"),
    ("parkların abadlaşdırılması", "park improvement", "благоустройство парков"),
)

# months: az nominative, az locative, en, ru genitive (dates), ru prepositional ("in January")
MONTHS: tuple[tuple[str, str, str, str, str], ...] = (
    ("yanvar", "yanvarda", "January", "января", "январе"),
    ("fevral", "fevralda", "February", "февраля", "феврале"),
    ("mart", "martda", "March", "марта", "марте"),
    ("aprel", "apreldə", "April", "апреля", "апреле"),
    ("may", "mayda", "May", "мая", "мае"),
    ("iyun", "iyunda", "June", "июня", "июне"),
    ("iyul", "iyulda", "July", "июля", "июле"),
    ("avqust", "avqustda", "August", "августа", "августе"),
    ("sentyabr", "sentyabrda", "September", "сентября", "сентябре"),
    ("oktyabr", "oktyabrda", "October", "октября", "октябре"),
    ("noyabr", "noyabrda", "November", "ноября", "ноябре"),
    ("dekabr", "dekabrda", "December", "декабря", "декабре"),
)

# Title templates per category key: (az, en, ru). Slots are filled in content.py.
TITLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "energy": (
        ("{ORG} və {A} birgə müəssisələrin yaradılmasını nəzərdən keçirib",
         "{ORG} and {A} explore creation of joint ventures",
         "{ORG} и {A} рассматривают создание совместных предприятий"),
        ("{A}–{B}: qaz ixracı {PCT}% artıb",
         "{A}–{B} gas exports up {PCT}%",
         "{A}–{B}: экспорт газа вырос на {PCT}%"),
        ("Dünya bazarlarında neft {UPDOWN} — Brent {PRICE} dollar",
         "Oil price {UPDOWN} on world markets — Brent at ${PRICE}",
         "Нефть на мировых рынках {UPDOWN} — Brent по ${PRICE}"),
        ("{A} və {B} {YEAR_AZORD} ilədək enerji tərəfdaşlığının prioritetlərini müzakirə edib",
         "{A} and {B} mull energy partnership priorities until {YEAR}",
         "{A} и {B} обсудили приоритеты энергетического партнерства до {YEAR} года"),
        ("{ORG} {A} ilə {AMT} milyon dollarlıq layihəni müzakirə edib",
         "{ORG} and {A} discuss project worth {AMT} million dollars",
         "{ORG} и {A} обсудили проект стоимостью {AMT} млн долларов"),
        ("{MON_LOC} neft hasilatı gündəlik {NUM} min barelə çatıb",
         "Oil output in {MON_LOC} reaches {NUM} thousand barrels per day",
         "Добыча нефти в {MON_LOC} достигла {NUM} тыс. баррелей в сутки"),
    ),
    "foreign-politics": (
        ("{P} {CITY} şəhərində {A_GEN} səfiri ilə görüşüb",
         "{P} meets with ambassador of {A} in {CITY}",
         "{P} встретился с послом {A_GEN} в городе {CITY}"),
        ("{A} və {B} arasında siyasi məsləhətləşmələrin {ROUND_AZORD} raundu keçirilib",
         "{A} and {B} hold {ROUND_ENORD} round of political consultations",
         "{A} и {B} провели {ROUND}-й раунд политических консультаций"),
        ("{CITY} şəhərində {A} və {B} əməkdaşlığın gücləndirilməsini müzakirə edib",
         "{A} and {B} discuss strengthening cooperation in {CITY}",
         "{A} и {B} обсудили в городе {CITY} укрепление сотрудничества"),
        ("{CITY} şəhərində {A}–{B} siyasi məsləhətləşmələri keçirilib",
         "{A}–{B} political consultations held in {CITY}",
         "В городе {CITY} прошли политические консультации {A}–{B}"),
        ("{A} {B_GEN} ərazi bütövlüyünə dəstəyini bir daha ifadə edib",
         "{A} reaffirms support for territorial integrity of {B}",
         "{A}: поддержка территориальной целостности {B_GEN} неизменна"),
        ("{A} və {B} {MEDALS} sənəd imzalayıb",
         "{A} and {B} sign {MEDALS} documents",
         "{A} и {B} подписали {MEDALS} документов"),
    ),
    "domestic-politics": (
        ("Prezident sərəncam imzalayıb: {POET} — {NUM5} il",
         "President orders celebration of {POET}'s {NUM5_ENORD} anniversary",
         "Президент подписал распоряжение: {POET} — {NUM5} лет"),
        ("Milli Məclisin {NUM_AZORD} plenar iclasında qanun layihələri müzakirə olunub",
         "Bills discussed at {NUM_ENORD} plenary session of Milli Majlis",
         "Законопроекты обсуждены на {NUM}-м пленарном заседании Милли Меджлиса"),
        ("{P} {CITY} şəhərində {NUM} vətəndaşı qəbul edib",
         "{P} receives {NUM} citizens in {CITY}",
         "{P} принял граждан в городе {CITY} — {NUM} человек"),
        ("Nazirlər Kabineti {PURPOSE} üçün {AMT} milyon manat ayırıb — {CITY}",
         "Cabinet allocates {AMT} million manats for {PURPOSE} in {CITY}",
         "Кабмин выделил {AMT} млн манатов на {PURPOSE} — {CITY}"),
    ),
    "business": (
        ("{A} və {B} iqtisadi əməkdaşlığın gücləndirilməsini müzakirə edib",
         "{A} and {B} discuss strengthening economic cooperation",
         "{A} и {B} обсудили укрепление экономического сотрудничества"),
        ("{ORG}: {MON_LOC} xalis mənfəət {PCT}% artıb",
         "{ORG} net profit up {PCT}% in {MON_LOC}",
         "{ORG}: чистая прибыль в {MON_LOC} выросла на {PCT}%"),
        ("{A}–{B} ticarət dövriyyəsi {AMT} milyon dolları ötüb",
         "{A}–{B} trade turnover exceeds {AMT} million dollars",
         "Товарооборот {A}–{B} превысил {AMT} млн долларов"),
        ("{CITY}: qeydiyyata alınan biznes subyektlərinin sayı {PCT}% artıb",
         "{CITY} business registrations up {PCT}%",
         "{CITY}: число зарегистрированных субъектов бизнеса выросло на {PCT}%"),
    ),
    "finance": (
        ("{DATE} tarixinə manatın rəsmi məzənnəsi",
         "Manat official exchange rate for {DATE}",
         "Официальный курс маната на {DATE}"),
        ("Mərkəzi Bank {AMT} milyon manatlıq depozit hərracı keçirib",
         "Central Bank holds deposit auction worth {AMT} million manats",
         "Центробанк провел депозитный аукцион на {AMT} млн манатов"),
        ("{ORG} Bakı Fond Birjasında {AMT} milyon manat cəlb edib",
         "{ORG} raises {AMT} million manats on Baku Stock Exchange",
         "{ORG} привлек {AMT} млн манатов на Бакинской фондовой бирже"),
        ("{A}: {MON_LOC} inflyasiya {PCT}% təşkil edib",
         "{A}: inflation at {PCT}% in {MON_LOC}",
         "{A}: инфляция в {MON_LOC} составила {PCT}%"),
    ),
    "economy": (
        ("{A_GEN} ÜDM-i {PCT}% artıb",
         "{A}'s GDP grows by {PCT}%",
         "ВВП {A_GEN} вырос на {PCT}%"),
        ("{A} və {B} {AMT} milyon dollarlıq birgə investisiya fondu yaradacaq",
         "{A} and {B} to create joint investment fund worth {AMT} million dollars",
         "{A} и {B} создадут совместный инвестфонд на {AMT} млн долларов"),
        ("{MON_LOC} qeyri-neft ixracı {AMT} milyon dollara çatıb",
         "Non-oil exports reach {AMT} million dollars in {MON_LOC}",
         "Ненефтяной экспорт в {MON_LOC} достиг {AMT} млн долларов"),
        ("{P}: «{A_GEN} iqtisadiyyatı {PCT}% artım nümayiş etdirir»",
         "{P}: “{A}'s economy shows {PCT}% growth”",
         "{P}: «Экономика {A_GEN} демонстрирует рост на {PCT}%»"),
    ),
    "region": (
        ("{A} və {B} prezidentləri danışıqlar aparacaq — {CITY}",
         "Presidents of {A} and {B} to hold talks in {CITY}",
         "Президенты {A_GEN} и {B_GEN} проведут переговоры — {CITY}"),
        ("{A} və {B} DİN-ləri arasında əməkdaşlığa dair saziş təsdiqlənib",
         "Agreement on cooperation between interior ministries of {A} and {B} approved",
         "Утверждено соглашение о сотрудничестве МВД {A_GEN} и {B_GEN}"),
        ("Transxəzər marşrutu: {A} və {B} yükdaşımaları müzakirə edib",
         "Trans-Caspian route: {A} and {B} discuss cargo transportation",
         "Транскаспийский маршрут: {A} и {B} обсудили грузоперевозки"),
        ("Orta Dəhliz: {A} üzrə tranzit yükdaşımaları {PCT}% artıb",
         "Middle Corridor: transit via {A} up {PCT}%",
         "Средний коридор: транзитные перевозки ({A}) выросли на {PCT}%"),
    ),
    "other-countries": (
        ("{A} {B_GEN} əleyhinə sanksiyaları {YEAR_AZORD} ilin sonunadək uzadıb",
         "{A} prolongs sanctions against {B} until end of {YEAR}",
         "{A} продлевает санкции против {B_GEN} до конца {YEAR} года"),
        ("{A}: {B} ilə dialoqa hazırıq — {CITY}",
         "{A} says ready for dialogue with {B} — {CITY}",
         "{A} заявляет о готовности к диалогу с властями {B_GEN} — {CITY}"),
        ("Baş nazir: {A} Aİ kreditinin {AMT} milyon avrosunu hava hücumundan müdafiəyə yönəldəcək",
         "PM: {A} will use {AMT} million euros of EU loan to strengthen air defense",
         "Премьер: {A} направит {AMT} млн евро кредита ЕС на усиление ПВО"),
        ("{A} ərazisində {MAG} maqnitudalı zəlzələ baş verib",
         "Earthquake of magnitude {MAG} hits {A}",
         "На территории {A_GEN} произошло землетрясение магнитудой {MAG}"),
    ),
    "society": (
        ("{DATE} üçün hava proqnozu: Bakıda {TEMP} dərəcəyədək",
         "Weather forecast for {DATE}: up to {TEMP} degrees in Baku",
         "Прогноз погоды на {DATE}: в Баку до {TEMP} градусов"),
        ("Böyük Qayıdış: {CITY} şəhərinə daha {NUM5} ailə köçürülüb",
         "Great Return: another {NUM5} families resettled in {CITY}",
         "Великое возвращение: еще {NUM5} семей переселены в город {CITY}"),
        ("{CITY} şəhərində {NUM10} şagird yerlik yeni məktəb açılıb",
         "New school for {NUM10} pupils opens in {CITY}",
         "В городе {CITY} открылась новая школа на {NUM10} мест"),
    ),
    "sports": (
        ("Premyer Liqa: {T1} {T2} komandasını {S1}:{S2} hesabı ilə məğlub edib",
         "Premier League: {T1} beat {T2} {S1}:{S2}",
         "Премьер-лига: {T1} обыграл {T2} со счетом {S1}:{S2}"),
        ("Azərbaycan güləşçiləri beynəlxalq turnirdə {MEDALS} medal qazanıb — {A}",
         "Azerbaijani wrestlers win {MEDALS} medals at international tournament in {A}",
         "Азербайджанские борцы завоевали {MEDALS} медалей на турнире — {A}"),
        ("Premyer Liqa, {ROUND_AZORD} tur: {T1} {PTS} xalla liderdir",
         "Premier League, round {ROUND}: {T1} leads with {PTS} points",
         "Премьер-лига, {ROUND}-й тур: {T1} лидирует с {PTS} очками"),
    ),
    "ict": (
        ("{A} və {B} rəqəmsal inkişaf sahəsində {MEDALS} layihəni müzakirə edib",
         "{A} and {B} discuss {MEDALS} projects in digital development",
         "{A} и {B} обсудили {MEDALS} проектов в сфере цифрового развития"),
        ("{CITY}: mobil internetin sürəti {SPEED} Mbit/s-ə çatıb",
         "Mobile internet speed in {CITY} reaches {SPEED} Mbps",
         "{CITY}: скорость мобильного интернета достигла {SPEED} Мбит/с"),
        ("{CITY}: daha {NUM5} yaşayış məntəqəsi genişzolaqlı internetə qoşulub",
         "{CITY}: another {NUM5} settlements connected to broadband internet",
         "{CITY}: к широкополосному интернету подключены еще {NUM5} населенных пунктов"),
    ),
    "culture": (
        ("{POET} — {NUM5}: yubiley tədbirləri {CITY} şəhərində keçiriləcək",
         "{POET}: {NUM5_ENORD} anniversary events to be held in {CITY}",
         "{POET} — {NUM5} лет: юбилейные мероприятия пройдут в городе {CITY}"),
        ("{CITY} şəhərində “{EXH}” sərgisi açılıb — {NUM10} eksponat",
         "Exhibition “{EXH}” opens in {CITY} with {NUM10} exhibits",
         "В городе {CITY} открылась выставка «{EXH}» — {NUM10} экспонатов"),
        ("Muğam festivalı {MEDALS} ölkədən ifaçıları bir araya gətirib — {CITY}",
         "Mugham festival gathers performers from {MEDALS} countries in {CITY}",
         "Фестиваль мугама собрал исполнителей из {MEDALS} стран — {CITY}"),
    ),
}

# Body sentences (az, en, ru); a paragraph is one to three of them.
SENTENCES: tuple[tuple[str, str, str], ...] = (
    ("“Report”un məlumatına görə, tərəflər əməkdaşlığın mövcud vəziyyətini və perspektivlərini müzakirə ediblər.",
     "According to Report, the sides discussed the current state and prospects of cooperation.",
     "Как сообщает Report, стороны обсудили текущее состояние и перспективы сотрудничества."),
    ("Görüşdə {P} və {ORG} nümayəndələri iştirak ediblər.",
     "The meeting was attended by {P} and representatives of {ORG}.",
     "Во встрече приняли участие {P} и представители {ORG_GEN}."),
    ("{P} qeyd edib ki, {A} ikitərəfli münasibətlərin inkişafına böyük önəm verir.",
     "{P} noted that {A} attaches great importance to the development of bilateral relations.",
     "{P} отметил, что {A} придает большое значение развитию двусторонних отношений."),
    ("Yanvar–{MON2} aylarında bu göstərici {AMT} milyon dollar təşkil edib ki, bu da ötən ilin eyni dövrü ilə müqayisədə {PCT}% çoxdur.",
     "In January–{MON2}, the figure amounted to {AMT} million dollars, which is {PCT}% more than in the same period last year.",
     "В январе–{MON2} этот показатель составил {AMT} млн долларов, что на {PCT}% больше, чем за аналогичный период прошлого года."),
    ("«Biz bütün sahələrdə tərəfdaşlığımızı genişləndirməyə hazırıq», — deyə {P} bildirib.",
     "“We are ready to expand our partnership in all areas,” {P} said.",
     "«Мы готовы расширять партнерство во всех сферах», — заявил {P}."),
    ("Qeyd olunub ki, növbəti görüş {CITY} şəhərində keçiriləcək.",
     "It was noted that the next meeting will be held in {CITY}.",
     "Отмечено, что следующая встреча пройдет в городе {CITY}."),
    ("Tərəflər həmçinin regional təhlükəsizlik məsələləri ətrafında fikir mübadiləsi aparıblar.",
     "The parties also exchanged views on regional security issues.",
     "Стороны также обменялись мнениями по вопросам региональной безопасности."),
    ("Danışıqların yekununda anlaşma memorandumu imzalanıb.",
     "A memorandum of understanding was signed following the talks.",
     "По итогам переговоров был подписан меморандум о взаимопонимании."),
    ("{ORG} tərəfindən həm Azərbaycanda, həm də xaricdə həyata keçirilən layihələr barədə məlumat verilib.",
     "Information was shared on projects implemented by {ORG} both in Azerbaijan and abroad.",
     "Была представлена информация о проектах {ORG_GEN} в Азербайджане и за рубежом."),
    ("Ekspertlər ilin sonunadək göstəricinin daha {PCT}% artacağını gözləyirlər.",
     "Experts expect the indicator to grow by another {PCT}% by the end of the year.",
     "Эксперты ожидают, что к концу года показатель вырастет еще на {PCT}%."),
    ("Qeyd edək ki, ötən il {A} ilə {B} arasında ticarət dövriyyəsi {AMT} milyon dolları ötüb.",
     "Note that last year trade turnover between {A} and {B} exceeded {AMT} million dollars.",
     "Отметим, что в прошлом году товарооборот в паре {A}–{B} превысил {AMT} млн долларов."),
    ("Tədbirin təşkilatçısı ölkənin ən böyük qurumlarından biri — {ORG}.",
     "The event was organized by {ORG} — one of the largest institutions in the country.",
     "Организатор мероприятия — {ORG}, одна из крупнейших структур страны."),
    ("{P} daha əvvəl {B_GEN} müvafiq qurumunun rəhbəri ilə telefonla danışıb.",
     "Earlier, {P} held a phone conversation with his counterpart from {B}.",
     "Ранее {P} провел телефонный разговор с коллегой из {B_GEN}."),
    ("Sənəd işçi qrupunun yaradılmasını nəzərdə tutur — qrup ildə ən azı iki dəfə toplanacaq.",
     "The document provides for the creation of a working group — it will meet at least twice a year.",
     "Документ предусматривает создание рабочей группы — она будет собираться не реже двух раз в год."),
    ("Layihəyə investisiyaların həcmi {AMT} milyon dollar qiymətləndirilir.",
     "Investment in the project is estimated at {AMT} million dollars.",
     "Объем инвестиций в проект оценивается в {AMT} млн долларов."),
    ("Texniki-iqtisadi əsaslandırmanı Ernst & Young şirkəti hazırlayıb.",
     "The feasibility study was prepared by Ernst & Young.",
     "Технико-экономическое обоснование подготовила компания Ernst & Young."),
    ("Nazirlikdən bildiriblər ki, «bütün öhdəliklər vaxtında yerinə yetiriləcək».",
     "The ministry said that “all obligations will be fulfilled on time”.",
     "В министерстве заявили, что «все обязательства будут выполнены в срок»."),
    ("Ötən ay {CITY} şəhərində {NUM} müraciətə baxılıb.",
     "Last month, {NUM} applications were reviewed in {CITY}.",
     "В прошлом месяце в городе {CITY} рассмотрено обращений: {NUM}."),
    ("Bu barədə {P} jurnalistlərə açıqlamasında deyib.",
     "{P} told journalists about this.",
     "Об этом {P} сообщил журналистам."),
    ("İclasda görülən işlər yekunlaşdırılıb, qarşıda duran vəzifələr müəyyənləşdirilib.",
     "The meeting summed up the work done and outlined upcoming tasks.",
     "На заседании подведены итоги проделанной работы и определены предстоящие задачи."),
)

# What an edit appends (one paragraph per revision).
UPDATE_PARAGRAPH: tuple[str, str, str] = (
    "Məlumat yenilənib: {N_AZORD} əlavə — tərəflər əlavə təfərrüatları açıqlayıb.",
    "Update {N}: the parties have disclosed additional details.",
    "Обновление {N}: стороны раскрыли дополнительные подробности.",
)

# Tags, beyond the story's own countries, organisations and people.
TOPIC_TAGS: dict[str, tuple[str, str, str]] = {
    "energy": ("neft və qaz", "oil and gas", "нефть и газ"),
    "foreign-politics": ("diplomatiya", "diplomacy", "дипломатия"),
    "domestic-politics": ("Milli Məclis", "Milli Majlis", "Милли Меджлис"),
    "business": ("ticarət", "trade", "торговля"),
    "finance": ("manat", "manat", "манат"),
    "economy": ("ÜDM", "GDP", "ВВП"),
    "region": ("Orta Dəhliz", "Middle Corridor", "Средний коридор"),
    "other-countries": ("sanksiyalar", "sanctions", "санкции"),
    "society": ("Böyük Qayıdış", "Great Return", "Великое возвращение"),
    "sports": ("futbol", "football", "футбол"),
    "ict": ("rəqəmsal inkişaf", "digital development", "цифровое развитие"),
    "culture": ("muğam", "mugham", "мугам"),
}

CAPTIONS: tuple[tuple[str, str, str], ...] = (
    ("{P} görüş zamanı", "{P} during the meeting", "{P} во время встречи"),
    ("Görüşdən görüntü — {CITY}", "A view from the meeting — {CITY}", "Кадр со встречи — {CITY}"),
    ("{ORG} nümayəndə heyəti", "{ORG} delegation", "Делегация {ORG_GEN}"),
    ("Sənədlərin imzalanma mərasimi", "Signing ceremony", "Церемония подписания документов"),
)

# Page furniture a crawler must drop, by kind, as REPORT_AZ.md quotes it (exact phrasings only;
# none mentions a messenger and a channel: reporting that cites channels is real text).
FURNITURE: dict[str, dict[str, str]] = {
    "az": {"source": "Mənbə: Report", "share": "Sosial şəbəkələrdə paylaşın",
           "subscribe": "Report İnformasiya Agentliyinin dərc etdiyi xəbərlərə abunə olmaq, fotoları əldə etmək "
                        "üçün agentliyin kommersiya bölməsinə müraciət edə bilərsiz:"},
    "en": {"source": "Source: Report"},
    "ru": {"source": "Источник: Report"},
}
BOILERPLATE: dict[str, tuple[str, ...]] = {lang: tuple(kinds.values()) for lang, kinds in FURNITURE.items()}

# Real first paragraphs: the agency's wire credit (az, en, ru).
OPENERS: tuple[tuple[str, str, str], ...] = (
    ('"Report" xəbər verir ki, bu barədə {ORG} rəsmi açıqlama yayıb.',
     "Report informs, citing {ORG}, that an official statement was issued on the matter.",
     "Как сообщает Report, об этом говорится в официальном заявлении {ORG_GEN}."),
    ('"Report" xəbər verir ki, məsələ {CITY} şəhərində keçirilən görüşdə müzakirə olunub.',
     "Report informs that the issue was discussed at a meeting held in {CITY}.",
     "Как сообщает Report, вопрос обсуждался на встрече в городе {CITY}."),
)

# Real paragraphs that cite a messenger or a social network (never furniture).
CHANNEL_PARAGRAPHS: tuple[tuple[str, str, str], ...] = (
    ("{ORG} Telegram kanalında bildirib ki, işlər plan üzrə davam etdirilir.",
     "{ORG} said on its Telegram channel that the work is proceeding as planned.",
     "В своем Telegram-канале {ORG} сообщает, что работы идут по плану."),
    ("{P} Facebook səhifəsində yazıb ki, görüş səmərəli keçib.",
     "{P} wrote on Facebook that the meeting had been productive.",
     "{P} написал в Facebook, что встреча прошла продуктивно."),
    ("{P} WhatsApp vasitəsilə göndərdiyi mesajda qərarın artıq qəbul edildiyini bildirib.",
     "{P} said in a WhatsApp message that the decision had already been made.",
     "{P} сообщил в WhatsApp, что решение уже принято."),
    ("Yeni qrafik {ORG} Telegram kanalında dərc olunub.",
     "The new schedule was published on the {ORG} Telegram channel.",
     "Новый график опубликован в Telegram-канале {ORG_GEN}."),
)

# Embedded tweets: their text is not the article's.
TWEETS: tuple[tuple[str, str, str], ...] = (
    ("Bu gün {A} ilə əməkdaşlıq məsələlərini müzakirə etdik.", "Discussed cooperation with {A} today.",
     "Сегодня обсудили сотрудничество с партнерами из {A_GEN}."),
    ("{CITY} görüşü üçün təşəkkür edirik!", "Thank you, {CITY}, for a productive meeting!",
     "Спасибо за продуктивную встречу в городе {CITY}!"),
)
NOSCRIPT = {"az": "Videonu izləmək üçün JavaScript-i aktivləşdirin.",
            "en": "Please enable JavaScript to watch this video.",
            "ru": "Включите JavaScript, чтобы посмотреть видео."}

# A tail some long titles carry (longer than JSON-LD's 110-character headline).
TITLE_TAILS: tuple[tuple[str, str, str], ...] = (
    (": {CITY} şəhərində keçirilən görüşdə tərəflər növbəti addımları və birgə layihələrin icra qrafikini "
     "müzakirə ediblər",
     ": at the meeting in {CITY}, the parties discussed the next steps and the implementation schedule of "
     "joint projects",
     ": на встрече в городе {CITY} стороны обсудили дальнейшие шаги и график реализации совместных проектов"),
)

# The trending-tags bar at the top of every page (not any article's own tags).
TRENDING: dict[str, tuple[str, ...]] = {
    "az": ("İlham Əliyev", "WUF13", "Azərbaycan-Ermənistan sülh prosesi"),
    "en": ("Ilham Aliyev", "WUF13", "Azerbaijan-Armenia peace process"),
    "ru": ("Ильхам Алиев", "WUF13", "Мирный процесс между Азербайджаном и Арменией"),
}
TAGS_LABEL = {"az": "Teqlər:", "en": "Tags:", "ru": "Теги:"}
EDITION_LABEL = {"az": "Azərbaycanca", "en": "English", "ru": "Русский"}
COPY_LINK = {"az": "Linki kopyala", "en": "Copy link", "ru": "Скопировать ссылку"}
HOME_LABEL = {"az": "Ana səhifə", "en": "Home", "ru": "Главная"}
TRENDING_LABEL = {"az": "Trend", "en": "Trending", "ru": "В тренде"}

# Page chrome per edition.
LATEST_LABEL = {"az": "Son xəbərlər", "en": "Latest News", "ru": "Последние новости"}
LATEST_PATH = {"az": "/son-xeberler", "en": "/en/latest-news", "ru": "/ru/poslednie-novosti"}
SITE_TITLE = {"az": "Report.az — Azərbaycanın xəbər agentliyi", "en": "Report.az — News Agency of Azerbaijan",
              "ru": "Report.az — Информационное агентство Азербайджана"}
PHOTO_BADGE = {"az": "Foto", "en": "Photo", "ru": "Фото"}
ALL_NEWS = {"az": "Bütün xəbər lenti", "en": "All News Feed", "ru": "Вся лента новостей"}
NOT_FOUND = {"az": "Səhifə tapılmadı", "en": "Page not found", "ru": "Страница не найдена"}
