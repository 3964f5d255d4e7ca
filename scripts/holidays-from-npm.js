#!/usr/bin/env node
// Writes catalogs/holidays.conf from the npm package @holiday-jp/holiday_jp,
// whose per-year files list the Cabinet Office's 「国民の祝日」 (national
// holidays, substitute holidays and the one-off 休日 of 2019).  Run once per
// newly published year, review the diff against the Cabinet Office list, commit
// the data file only:
//   cd "$(mktemp -d)" && npm pack @holiday-jp/holiday_jp && tar xzf holiday-jp-*.tgz
//   node /path/to/jiko/scripts/holidays-from-npm.js package FIRST LAST PUBLISHED >/path/to/jiko/catalogs/holidays.conf
// PUBLISHED is the latest year on the Cabinet Office's list; the years after
// it, up to LAST, are the package's law-derived ones (see the file's header).
'use strict';
const path = require('path');
const [dir, first, last, publishedArg] = process.argv.slice(2);
if (!dir || !first || !last) {
  console.error('usage: holidays-from-npm.js PACKAGE_DIR FIRST_YEAR LAST_YEAR [PUBLISHED_LAST_YEAR]');
  process.exit(2);
}
const published = publishedArg || last;
const pkg = require(path.resolve(dir, 'package.json'));
const out = [];
out.push(`# jiko holiday calendar: the administrative holidays (行政機関の休日) that move a
# report deadline (行政機関の休日に関する法律 第1条第1項, 第2条).
#
# 第1条第1項: the administrative holidays are 一 Sundays and Saturdays, 二 the
# national holidays (国民の祝日に関する法律 に規定する休日: 祝日, 振替休日 and the
# days between two holidays), 三 29 December to 3 January.  Items 一 and 三 are
# the [calendar] keys 'weekend' and 'year_end'; item 二 is one 'holiday' line per
# day, in a [year YYYY] section for every calendar year covered.
#
# Source: 内閣府「国民の祝日について」, the list of national holidays and 休日 for
# each year (https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html), as carried
# by the npm package ${pkg.name} ${pkg.version} (lib/holidays_every_year/YYYY.js,
# generated from holiday-jp/holiday_jp, which follows that list).
# Made with scripts/holidays-from-npm.js ${first} ${last} ${published}; names as in the source.
# Checked by hand against the law (see docs/rulebook-format.md, "Holiday
# calendar"): the equinox days of 2008-${published} as announced in the 官報; the 2019
# 休日 around the accession (天皇の即位の日及び即位礼正殿の儀の行われる日を休日
# とする法律, 平成30年法律第99号: 4/30, 5/1, 5/2, 10/22); the Olympic moves of
# 2020 (7/23, 7/24, 8/10) and 2021 (7/22, 7/23, 8/8 + 8/9), under 平成二十三年
# 東京オリンピック競技大会・東京パラリンピック競技大会特別措置法 第32条の2 —
# so 2021-10-11 (the usual スポーツの日) was a working day; 天皇誕生日 12/23 until
# 2018, none in 2019, 2/23 from 2020.
# ${published} is the latest year the Cabinet Office has published (the equinox days
# are fixed each February for the next year, in the 官報).${+last > +published ? `
# ${+published + 1}-${last} are LAW-DERIVED, not published: the package computes them
# from 国民の祝日に関する法律 as it stands (fixed days, 振替休日, 国民の休日) with the
# equinox days as predicted by the National Astronomical Observatory of Japan
# (国立天文台; the official dates are announced one year ahead).  A change of the
# law, or a predicted equinox that the 官報 fixes otherwise, changes them: when
# the Cabinet Office publishes a year, regenerate with that year as PUBLISHED and
# review the diff.  tests/test_holiday.c checks every year's equinoxes against an
# independent computation.` : ''}
# A deadline in a later year than ${last} is an error ("no holiday calendar for
# ${+last + 1}") until its year is added here.

[calendar]
name.ja = 行政機関の休日
name.en = administrative holidays
first_year = ${first}
last_year = ${last}
weekend = saturday sunday        # 第1条第1項第1号
year_end = 12-29 01-03           # 第1条第1項第3号: 12月29日から翌年の1月3日まで
source = 行政機関の休日に関する法律 第1条第1項; 国民の祝日に関する法律; 内閣府「国民の祝日について」 (published to ${published}; ${+last > +published ? `${+published + 1}-${last} law-derived, equinoxes as predicted by 国立天文台` : 'no later year'}) via npm ${pkg.name} ${pkg.version}
`);
for (let y = +first; y <= +last; y++) {
  const h = require(path.resolve(dir, 'lib/holidays_every_year', y + '.js'));
  out.push(`[year ${y}]`);
  for (const k of Object.keys(h).sort())
    out.push(`holiday = ${k} ${h[k].name} | ${h[k].name_en}`);
  out.push('');
}
process.stdout.write(out.join('\n'));
