//! Matching what callers say and keyboards type against the names of things.
//!
//! Speech-to-text and phone keyboards disagree on case, diacritics, cedilla versus
//! comma-below (ş/ș, ţ/ț) and the way two services are joined ("tuns + barbă",
//! "tuns+barba", "tuns și barbă"), so names are compared through [`fold`].

use unicode_normalization::UnicodeNormalization;

/// Returns the comparison key of `s`: lowercase, without diacritics, words separated by
/// single spaces.
///
/// Any run of characters that are neither letters, digits nor `+` becomes one space.
/// A join between two things, written `+`, `&` or the word "și"/"si", becomes a
/// standalone `+` token, so "Tuns+barbă", "tuns & barba" and "tuns și barbă" all fold to
/// "tuns + barba".
pub fn fold(s: &str) -> String {
    let mut spaced = String::with_capacity(s.len());
    // Lowercasing first lets NFD split any mark a lowercase mapping introduces (İ → i̇).
    for c in s.to_lowercase().nfd() {
        if is_combining_mark(c) {
            continue;
        }
        if c.is_alphanumeric() {
            spaced.push(c);
        } else if c == '+' || c == '&' {
            spaced.push_str(" + ");
        } else {
            spaced.push(' ');
        }
    }
    let mut key = String::with_capacity(spaced.len());
    let mut last_was_join = false;
    for word in spaced.split_whitespace() {
        let join = word == "+" || word == "si";
        // "tuns + și barbă" still names one pair, not two joins.
        if join && last_was_join {
            continue;
        }
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(if join { "+" } else { word });
        last_was_join = join;
    }
    key
}

/// Tells whether `c` is a combining mark that only decorates the letter before it.
fn is_combining_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}' // Combining Diacritical Marks, incl. cedilla and comma below
            | '\u{1AB0}'..='\u{1AFF}' // Combining Diacritical Marks Extended
            | '\u{1DC0}'..='\u{1DFF}' // Combining Diacritical Marks Supplement
            | '\u{20D0}'..='\u{20FF}' // Combining Diacritical Marks for Symbols
            | '\u{FE20}'..='\u{FE2F}' // Combining Half Marks
    )
}

/// How a query matched a list of items.
#[derive(Debug, PartialEq, Eq)]
pub enum Match<'a, T> {
    /// One item has a name equal to the query once both are folded.
    Exact(&'a T),
    /// One item matches in part: its name contains the query from the start of a word,
    /// or the query contains its name as whole words and no longer matching name covers
    /// that part of the query.
    Unique(&'a T),
    /// Several items match equally well, in the order they were given.
    Ambiguous(Vec<&'a T>),
    /// Nothing matches.
    None,
}

/// Finds the item a caller meant by `query`.
///
/// Each item may go by several names (a service and its aliases, say); `names` lists
/// them, borrowed from the item (`|s| [s.name.as_str()]`). Names are compared through
/// [`fold`], and an exact match wins over any partial one. Otherwise an item matches
/// when one of its names contains the query starting at a word ("vops" in "Vopsit
/// scurt") or when the query contains one of its names as whole words ("aș vrea un
/// tuns" contains "Tuns"). Where matched names overlap in the query
/// the longest wins, so "tuns copii vă rog" picks "Tuns copii" over "Tuns"; names found
/// in separate parts of the query ("tuns și vopsit") are all reported as ambiguous.
pub fn best_match<'a, T, I>(query: &str, items: &'a [T], names: impl Fn(&'a T) -> I) -> Match<'a, T>
where
    I: IntoIterator<Item = &'a str>,
{
    let query = fold(query);
    if query.is_empty() {
        return Match::None;
    }
    let query_words: Vec<&str> = query.split(' ').collect();
    let padded_query = format!(" {query} ");

    let mut exact = Vec::new();
    // Each partial match with the spans of query words its names cover.
    let mut partial: Vec<(&'a T, Vec<Span>)> = Vec::new();
    for item in items {
        let mut spans = Vec::new();
        let mut is_exact = false;
        for name in names(item) {
            let name = fold(name);
            if name.is_empty() {
                // An empty name would be found inside every query.
                continue;
            }
            if name == query {
                is_exact = true;
                break;
            }
            if format!(" {name}").contains(&format!(" {query}")) {
                // The query is part of this name, so the name accounts for all of it.
                spans.push(Span {
                    start: 0,
                    end: query_words.len(),
                });
            } else if padded_query.contains(&format!(" {name} ")) {
                spans.extend(occurrences(&query_words, &name));
            }
        }
        if is_exact {
            exact.push(item);
        } else if !spans.is_empty() {
            partial.push((item, spans));
        }
    }

    if !exact.is_empty() {
        return one_or_many(exact, Match::Exact);
    }
    let kept: Vec<&'a T> = partial
        .iter()
        .enumerate()
        .filter(|&(i, (_, spans))| {
            // Drop an item whose every mention lies inside a longer mention of another.
            !spans.iter().all(|s| {
                partial
                    .iter()
                    .enumerate()
                    .any(|(j, (_, other))| j != i && other.iter().any(|o| o.strictly_covers(s)))
            })
        })
        .map(|(_, (item, _))| *item)
        .collect();
    one_or_many(kept, Match::Unique)
}

/// A half-open range of word positions in the folded query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// Tells whether this span contains `other` and is longer than it.
    fn strictly_covers(self, other: &Span) -> bool {
        self.start <= other.start
            && other.end <= self.end
            && self.end - self.start > other.end - other.start
    }
}

/// Returns every place the folded `name` appears in the query as whole words.
fn occurrences(query_words: &[&str], name: &str) -> Vec<Span> {
    let name_words: Vec<&str> = name.split(' ').collect();
    query_words
        .windows(name_words.len())
        .enumerate()
        .filter(|(_, window)| *window == name_words.as_slice())
        .map(|(start, _)| Span {
            start,
            end: start + name_words.len(),
        })
        .collect()
}

/// Wraps a single item with `one`, several as ambiguous, none as no match.
fn one_or_many<'a, T>(mut found: Vec<&'a T>, one: fn(&'a T) -> Match<'a, T>) -> Match<'a, T> {
    match found.len() {
        0 => Match::None,
        1 => one(found.remove(0)),
        _ => Match::Ambiguous(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: [&str; 6] = [
        "Tuns",
        "Tuns copii",
        "Bărbierit",
        "Tuns + barbă",
        "Vopsit scurt",
        "Vopsit lung",
    ];

    fn find(query: &str) -> Match<'static, &'static str> {
        best_match(query, &SERVICES, |s| [*s])
    }

    #[test]
    fn fold_ignores_case_diacritics_and_cedillas() {
        for spelling in [
            "Bărbierit",
            "BĂRBIERIT",
            "barbierit",
            "Barbierit ",
            "  bărbierit\t",
            "ba\u{0306}rbierit",
        ] {
            assert_eq!(fold(spelling), "barbierit", "{spelling:?}");
        }
        assert_eq!(fold("Ştefan Ţepeş"), "stefan tepes");
        assert_eq!(fold("Ștefan Țepeș"), "stefan tepes");
        assert_eq!(fold("ÎNCĂLȚĂMINTE"), "incaltaminte");
    }

    #[test]
    fn fold_collapses_punctuation_and_spaces_joins() {
        assert_eq!(fold("Tuns + barbă"), "tuns + barba");
        assert_eq!(fold("tuns+barba"), "tuns + barba");
        assert_eq!(fold("Tuns & Barbă"), "tuns + barba");
        assert_eq!(fold("tuns și barbă"), "tuns + barba");
        assert_eq!(fold("tuns şi barbă"), "tuns + barba");
        assert_eq!(fold("tuns si barba"), "tuns + barba");
        assert_eq!(fold("tuns, + și barbă"), "tuns + barba");
        assert_eq!(fold("Vopsit -- scurt!!"), "vopsit scurt");
        assert_eq!(fold("Mâine, la ora 10:30."), "maine la ora 10 30");
        assert_eq!(fold(" ?! "), "");
        // "si" only joins as a whole word.
        assert_eq!(fold("Simona"), "simona");
    }

    #[test]
    fn exact_wins_over_partial() {
        assert_eq!(find("tuns"), Match::Exact(&"Tuns"));
        assert_eq!(find("TUNS"), Match::Exact(&"Tuns"));
    }

    #[test]
    fn diacritics_and_case_do_not_matter() {
        for query in ["barbierit", "BĂRBIERIT", "bărbierit", "Barbierit "] {
            assert_eq!(find(query), Match::Exact(&"Bărbierit"), "{query:?}");
        }
        // Cedilla ş typed on an old keyboard, against a name stored with comma-below.
        let cedilla = ["Încreţit şuviţe"];
        assert_eq!(
            best_match("încrețit șuvițe", &cedilla, |s| vec![*s]),
            Match::Exact(&"Încreţit şuviţe")
        );
    }

    #[test]
    fn joined_services_match_however_written() {
        for query in [
            "tuns+barba",
            "Tuns + barbă",
            "tuns și barbă",
            "tuns si barba",
        ] {
            assert_eq!(find(query), Match::Exact(&"Tuns + barbă"), "{query:?}");
        }
    }

    #[test]
    fn part_of_a_single_name_is_unique() {
        assert_eq!(find("copii"), Match::Unique(&"Tuns copii"));
        assert_eq!(find("scurt"), Match::Unique(&"Vopsit scurt"));
        assert_eq!(find("vopsit l"), Match::Unique(&"Vopsit lung"));
    }

    #[test]
    fn part_of_several_names_is_ambiguous() {
        assert_eq!(
            find("vopsit"),
            Match::Ambiguous(vec![&"Vopsit scurt", &"Vopsit lung"])
        );
        // "barb" starts "Bărbierit" and the second word of "Tuns + barbă".
        assert_eq!(
            find("barb"),
            Match::Ambiguous(vec![&"Bărbierit", &"Tuns + barbă"])
        );
    }

    #[test]
    fn no_match() {
        assert_eq!(find("manichiura"), Match::None);
        assert_eq!(find(""), Match::None);
        assert_eq!(find(" ... "), Match::None);
        // Only word starts count: "ns" is inside "tuns" but starts no word.
        assert_eq!(find("ns"), Match::None);
        assert_eq!(
            best_match("tuns", &[] as &[&str], |s| vec![*s]),
            Match::None
        );
    }

    #[test]
    fn a_sentence_naming_one_service_matches_it() {
        let items = ["Tuns", "Vopsit scurt", "Vopsit lung"];
        assert_eq!(
            best_match("aș vrea un tuns", &items, |s| vec![*s]),
            Match::Unique(&"Tuns")
        );
        assert_eq!(
            best_match("as vrea un tuns", &items, |s| vec![*s]),
            Match::Unique(&"Tuns")
        );
        // A name is matched as whole words, not inside another word.
        assert_eq!(
            best_match("as vrea un tunsoare", &items, |s| vec![*s]),
            Match::None
        );
    }

    #[test]
    fn the_longest_name_in_a_sentence_wins() {
        assert_eq!(find("tuns copii va rog"), Match::Unique(&"Tuns copii"));
        assert_eq!(find("as vrea un tuns"), Match::Unique(&"Tuns"));
        assert_eq!(
            find("vreau tuns și barbă mâine"),
            Match::Unique(&"Tuns + barbă")
        );
        assert_eq!(
            find("vreau vopsit lung la 10"),
            Match::Unique(&"Vopsit lung")
        );
    }

    #[test]
    fn separate_names_in_a_sentence_are_ambiguous() {
        assert_eq!(
            find("un tuns, apoi un vopsit scurt"),
            Match::Ambiguous(vec![&"Tuns", &"Vopsit scurt"])
        );
    }

    #[test]
    fn duplicate_exact_names_are_ambiguous() {
        let items = ["Tuns", "TUNS"];
        assert_eq!(
            best_match("tuns", &items, |s| vec![*s]),
            Match::Ambiguous(vec![&"Tuns", &"TUNS"])
        );
    }

    #[test]
    fn aliases_are_names_too() {
        struct Service {
            name: String,
            aliases: Vec<String>,
        }
        fn names(s: &Service) -> Vec<&str> {
            let mut all = vec![s.name.as_str()];
            all.extend(s.aliases.iter().map(String::as_str));
            all
        }
        let service = |name: &str, aliases: &[&str]| Service {
            name: name.to_owned(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        };
        let items = [
            service("Tuns", &["Frizat"]),
            service("Coafat", &["Aranjat păr", ""]),
        ];
        let Match::Exact(found) = best_match("frizat", &items, names) else {
            panic!("alias did not match exactly");
        };
        assert_eq!(found.name, "Tuns");
        let Match::Unique(found) = best_match("aranjat", &items, |s| {
            [s.name.as_str()]
                .into_iter()
                .chain(s.aliases.iter().map(String::as_str))
        }) else {
            panic!("alias prefix did not match");
        };
        assert_eq!(found.name, "Coafat");
        // The empty alias must not match everything.
        assert!(matches!(best_match("ceva", &items, names), Match::None));
    }
}
