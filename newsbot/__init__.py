"""newsbot: a Scrapy crawler for report.az in its Azerbaijani, English and Russian editions."""
