"""The replica's own categories: each edition's slug and display name, and the key an analyst expects.

Independent of newsbot/data/categories.json on purpose: the crawler's table knows some of these
slugs, some in one edition only and some not at all, as it will on the live site (REPORT_AZ.md:
"most slugs have no known counterpart in the other editions"). Each category's `key` is written
by hand: the crawler's known key if its table knows the slug of any edition, else the en slug,
else the ru slug, else the az slug. A full crawl's category_slug equal to the ground truth's then
tests newsbot's rule (newsbot.site.categories.unify over a page and its linked editions) against a
table it has never read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    key: str                                # the ground truth's category_slug
    editions: dict[str, tuple[str, str]]    # language -> (URL slug, display name); missing: no such section
    named_by: tuple[str, ...]               # editions whose page alone shows the key (see below)
    weight: int                             # share of the stories
    topic: str                              # which texts.TITLES / TOPIC_TAGS its stories draw from


# named_by: the editions whose slug either is the key or is one the crawler's table knows. A story
# with no such edition would leave even an analyst guessing (its pages name only unknown slugs),
# so every story has at least one (content.Corpus adds it when the draw left it out).
CATEGORIES: tuple[Category, ...] = (
    # Known to the crawler in az and en (REPORT_AZ), the ru slug is not.
    Category("energy", {"az": ("energetika", "Energetika"), "en": ("energy", "Energy"),
                        "ru": ("energetika", "Энергетика")}, ("az", "en"), 14, "energy"),
    Category("foreign-politics", {"az": ("xarici-siyaset", "Xarici siyasət"), "en": ("foreign-politics", "Foreign policy"),
                                  "ru": ("vneshnyaya-politika", "Внешняя политика")}, ("az", "en"), 14,
             "foreign-politics"),
    # Known in all three editions.
    Category("other-countries", {"az": ("diger-olkeler", "Digər ölkələr"), "en": ("other-countries", "Other countries"),
                                 "ru": ("drugie-strany", "Другие страны")}, ("az", "en", "ru"), 12, "other-countries"),
    Category("business", {"az": ("biznes-xeberleri", "Biznes"), "en": ("business", "Business"),
                          "ru": ("biznes", "Бизнес")}, ("az", "en", "ru"), 12, "business"),
    Category("domestic-politics", {"az": ("daxili-siyaset", "Daxili siyasət"),
                                   "en": ("domestic-politics", "Domestic policy"),
                                   "ru": ("vnutrennyaya-politika", "Внутренняя политика")}, ("az", "en", "ru"), 10,
             "domestic-politics"),
    # Known in az only; the en slug happens to be the key.
    Category("economy", {"az": ("iqtisadiyyat-xeberleri", "İqtisadiyyat"), "en": ("economy", "Economy"),
                         "ru": ("ekonomika", "Экономика")}, ("az", "en"), 10, "economy"),
    Category("region", {"az": ("region-xeberleri", "Region"), "en": ("region", "Region"),
                        "ru": ("region", "Регион")}, ("az", "en"), 9, "region"),
    Category("finance", {"az": ("maliyye-xeberleri", "Maliyyə"), "en": ("finance", "Finance"),
                         "ru": ("finansy", "Финансы")}, ("az", "en"), 8, "finance"),
    Category("society", {"az": ("cemiyyet", "Cəmiyyət"), "en": ("society", "Society"),
                         "ru": ("obshestvo", "Общество")}, ("az", "en"), 6, "society"),
    # Unknown to the crawler in every edition: the en slug is the key.
    Category("football", {"az": ("futbol-xeberleri", "Futbol"), "en": ("football", "Football"),
                          "ru": ("futbol", "Футбол")}, ("en",), 6, "sports"),
    Category("culture", {"az": ("medeniyyet", "Mədəniyyət"), "en": ("culture", "Culture"),
                         "ru": ("kultura", "Культура")}, ("en",), 2, "culture"),
    # Known in one edition only, and not the az one: the az page learns it from its en edition.
    Category("politics", {"az": ("siyaset", "Siyasət xəbərləri"), "en": ("politics", "Politics"),
                          "ru": ("politika", "Политика")}, ("en",), 5, "domestic-politics"),
    # Known in az and ru only.
    Category("ict", {"az": ("ikt", "İKT"), "en": ("ict", "ICT"), "ru": ("ikt", "ИКТ")}, ("az", "en", "ru"), 3, "ict"),
    # No en section; the crawler knows the az slug only: a ru-only story learns it from the others.
    Category("health", {"az": ("sehiyye-xeberler", "Səhiyyə"),
                        "ru": ("zdravookhranenie", "Здравоохранение")}, ("az",), 3, "society"),
    # Only in the az edition, known to the crawler.
    Category("incidents", {"az": ("hadise", "Hadisə")}, ("az",), 3, "society"),
)
BY_KEY: dict[str, Category] = {c.key: c for c in CATEGORIES}
