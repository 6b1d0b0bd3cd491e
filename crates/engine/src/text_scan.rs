//! One pass over a failure's error text that finds its built-in class and its first matching
//! error pattern together.
//!
//! # How
//! At configure time every built-in phrase, every word of every literal error pattern (see
//! [`ErrorPattern::literal_words`]) and the line break go into one ASCII case-insensitive
//! Aho-Corasick automaton. A decision then walks the bounded error text once, in place (no
//! joined or lowercased copy), and each occurrence the automaton reports advances the patterns
//! that use that word: a literal pattern matches when its words occur in order, without
//! overlapping, within one line, which is exactly what the regular expression `w1.*w2...`
//! means. Only patterns that are not literal (rare) run the regex engine, on a joined copy of
//! the text, and only when no earlier pattern has matched.

use aho_corasick::automaton::Automaton;
use aho_corasick::automaton::StateID;
use aho_corasick::{Anchored, MatchKind, dfa, nfa};
use foldhash::HashMap;

use crate::error_text::{BuiltinClass, CONNECTION_PHRASES, TIMEOUT_PHRASES, join_lines};
use crate::pattern::ErrorPattern;
use crate::start_bytes::StartBytes;

/// What one automaton needle stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// A built-in phrase of this class.
    Builtin(BuiltinClass),
    /// Word `word` of literal error pattern `pattern`.
    Word { pattern: usize, word: usize },
    /// A line break: words of one pattern must share a line.
    LineBreak,
}

/// How one error pattern is matched.
#[derive(Debug, Clone)]
enum PatternPlan {
    /// Its words, in order, within one line (none: it matches any text).
    Literal { words: usize },
    /// Any other regular expression: the regex engine, on the joined text.
    Regex(regex_lite::Regex),
}

/// Needle bytes up to which the automaton is a DFA (a table lookup per byte of text, about
/// 500 bytes of table per needle byte at worst); larger sets use a contiguous NFA, slower per
/// byte but about 25 times smaller (64 KiB of needles, the most a config can hold: 1.4-2.2 MB,
/// built in 30-50 ms natively).
const MAX_DFA_NEEDLE_BYTES: usize = 4 * 1024;

/// The automaton of all needles, ASCII case-insensitive, reporting overlapping occurrences.
#[derive(Debug, Clone)]
struct Needles {
    automaton: Automata,
    /// The bytes that may begin a needle (either case): in its start state the automaton
    /// skips every other byte without a transition.
    starts: StartBytes,
}

#[derive(Debug, Clone)]
enum Automata {
    Dfa(dfa::DFA),
    Nfa(nfa::contiguous::NFA),
}

impl Needles {
    fn new(needles: &[String]) -> Result<Self, String> {
        let starts = StartBytes::new(
            needles
                .iter()
                .filter_map(|needle| needle.bytes().next())
                .flat_map(|first| [first.to_ascii_lowercase(), first.to_ascii_uppercase()]),
        );
        Ok(Self {
            automaton: Automata::new(needles)?,
            starts,
        })
    }

    /// Calls `found(needle, start, end)` for every occurrence in `text`, in order of end.
    fn each(&self, text: &str, found: impl FnMut(usize, usize, usize)) {
        match &self.automaton {
            Automata::Dfa(dfa) => each_occurrence(dfa, &self.starts, text, found),
            Automata::Nfa(nfa) => each_occurrence(nfa, &self.starts, text, found),
        }
    }
}

impl Automata {
    fn new(needles: &[String]) -> Result<Self, String> {
        let bytes: usize = needles.iter().map(String::len).sum();
        if bytes <= MAX_DFA_NEEDLE_BYTES {
            dfa::Builder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(needles)
                .map(Self::Dfa)
        } else {
            nfa::contiguous::Builder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(needles)
                .map(Self::Nfa)
        }
        .map_err(|err| err.to_string())
    }
}

/// The search loop, written here rather than taken from the crate's overlapping iterator (which
/// keeps its position in memory between matches and costs about 19 instructions a byte):
/// - in the start state, bytes that begin no needle are skipped by a table lookup each, with
///   no transition (a transition is a load that depends on the previous one, several cycles a
///   byte);
/// - the loop only notes where match states were reached; the occurrences are reported
///   afterwards, so that nothing but the automaton's state is live in the loop.
fn each_occurrence<A: Automaton>(
    automaton: &A,
    starts: &StartBytes,
    text: &str,
    mut found: impl FnMut(usize, usize, usize),
) {
    // An unanchored start state always exists (the builders' default start kind).
    let Ok(start) = automaton.start_state(Anchored::No) else {
        return;
    };
    let bytes = text.as_bytes();
    let mut state = start;
    let mut at = 0;
    let mut reached = [(0, start); REACHED_BATCH];
    let mut batched = 0;
    let mut report = |reached: &[(usize, StateID)]| {
        for &(end, state) in reached {
            for index in 0..automaton.match_len(state) {
                let needle = automaton.match_pattern(state, index);
                found(needle.as_usize(), end - automaton.pattern_len(needle), end);
            }
        }
    };
    while at < bytes.len() {
        if state == start {
            match starts.first_in(&bytes[at..]) {
                Some(skipped) => at += skipped,
                None => break,
            }
        }
        state = automaton.next_state(Anchored::No, state, bytes[at]);
        at += 1;
        if automaton.is_special(state) && automaton.is_match(state) {
            reached[batched] = (at, state);
            batched += 1;
            if batched == REACHED_BATCH {
                report(&reached);
                batched = 0;
            }
        }
    }
    report(&reached[..batched]);
}

/// Match states noted by the search loop before they are reported.
const REACHED_BATCH: usize = 16;

/// The configure-time matcher of the built-in classes and the error patterns.
#[derive(Debug, Clone)]
pub(crate) struct TextScanner {
    automaton: Needles,
    /// Per automaton needle, what it stands for (a word shared by patterns has several uses,
    /// in pattern and word order).
    uses: Vec<Vec<Use>>,
    plans: Vec<PatternPlan>,
}

impl Default for TextScanner {
    /// The scanner of the built-in phrases alone.
    fn default() -> Self {
        Self::new([]).unwrap_or_else(|err| unreachable!("the built-in phrases compile: {err}"))
    }
}

/// The scanner is derived from the patterns, which are compared on their own.
impl PartialEq for TextScanner {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

/// What a scan found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TextFindings {
    /// The built-in class (timeouts win over connection errors).
    pub(crate) builtin: Option<BuiltinClass>,
    /// The index of the first error pattern (in config order) that matches.
    pub(crate) pattern: Option<usize>,
}

/// Patterns whose scan state fits on the stack.
const INLINE_PATTERNS: usize = 8;

/// How far a literal pattern has got on the current line.
#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Whether the pattern has matched (on some line).
    matched: bool,
    line: usize,
    next_word: usize,
    /// Where the next word may start (the end of the previous one).
    ready_at: usize,
}

impl TextScanner {
    /// The scanner of the built-in phrases and `patterns`.
    ///
    /// # Errors
    /// The automaton builder's message, should the patterns be too large for it (the config
    /// limits keep them far below that).
    pub(crate) fn new<'p>(
        patterns: impl IntoIterator<Item = &'p ErrorPattern>,
    ) -> Result<Self, String> {
        let mut needles: Vec<String> = Vec::new();
        let mut uses: Vec<Vec<Use>> = Vec::new();
        let mut ids: HashMap<String, usize> = HashMap::default();
        let mut add = |needle: String, use_: Use| {
            let id = *ids.entry(needle.clone()).or_insert_with(|| {
                needles.push(needle);
                uses.push(Vec::new());
                uses.len() - 1
            });
            uses[id].push(use_);
        };
        add("\n".to_owned(), Use::LineBreak);
        for (phrases, class) in [
            (TIMEOUT_PHRASES, BuiltinClass::Timeout),
            (CONNECTION_PHRASES, BuiltinClass::Connection),
        ] {
            for phrase in phrases {
                add((*phrase).to_owned(), Use::Builtin(class));
            }
        }
        let mut plans = Vec::new();
        for (pattern, error_pattern) in patterns.into_iter().enumerate() {
            match error_pattern.literal_words() {
                Some(words) => {
                    for (word, text) in words.iter().enumerate() {
                        add(text.to_ascii_lowercase(), Use::Word { pattern, word });
                    }
                    plans.push(PatternPlan::Literal { words: words.len() });
                }
                None => plans.push(PatternPlan::Regex(error_pattern.regex().clone())),
            }
        }
        let automaton = Needles::new(&needles)?;
        Ok(Self {
            automaton,
            uses,
            plans,
        })
    }

    /// Scans the error text whose parts `parts` yields (see
    /// [`crate::error_text::error_text_parts`]; each part starts a line). Built-in classes are
    /// looked for only when `builtin` is set. `parts` is called again only if a regex pattern
    /// must run.
    pub(crate) fn scan<'t, I: Iterator<Item = &'t str>>(
        &self,
        parts: impl Fn() -> I,
        builtin: bool,
    ) -> TextFindings {
        let mut findings = TextFindings::default();
        // Most configs have a handful of patterns: their progress lives on the stack.
        let mut inline = [Progress::default(); INLINE_PATTERNS];
        let mut spilled = Vec::new();
        let progress: &mut [Progress] = if self.plans.len() <= INLINE_PATTERNS {
            &mut inline[..self.plans.len()]
        } else {
            spilled.resize(self.plans.len(), Progress::default());
            &mut spilled
        };
        for (state, plan) in progress.iter_mut().zip(&self.plans) {
            state.matched = matches!(plan, PatternPlan::Literal { words: 0 });
        }
        let mut timeout = false;
        let mut connection = false;
        // Each part and each line break starts a line: their running sum numbers the lines.
        let mut breaks = 0;
        for (part_index, part) in parts().enumerate() {
            self.automaton.each(part, |needle, start, end| {
                for &use_ in &self.uses[needle] {
                    let line = part_index + breaks;
                    match use_ {
                        Use::LineBreak => breaks += 1,
                        Use::Builtin(BuiltinClass::Timeout) => timeout |= builtin,
                        Use::Builtin(BuiltinClass::Connection) => connection |= builtin,
                        Use::Word { pattern, word } => {
                            let state = &mut progress[pattern];
                            if state.matched {
                                continue;
                            }
                            if state.line != line {
                                *state = Progress {
                                    line,
                                    ..Progress::default()
                                };
                            }
                            if state.next_word == word && start >= state.ready_at {
                                state.next_word += 1;
                                state.ready_at = end;
                                state.matched = matches!(
                                    self.plans[pattern],
                                    PatternPlan::Literal { words } if words == state.next_word
                                );
                            }
                        }
                    }
                }
            });
        }
        findings.builtin = if timeout {
            Some(BuiltinClass::Timeout)
        } else {
            connection.then_some(BuiltinClass::Connection)
        };
        let mut joined: Option<String> = None;
        findings.pattern = self
            .plans
            .iter()
            .enumerate()
            .position(|(pattern, plan)| match plan {
                PatternPlan::Literal { .. } => progress[pattern].matched,
                PatternPlan::Regex(regex) => {
                    let text = joined.get_or_insert_with(|| join_lines(parts()));
                    regex.is_match(text)
                }
            });
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(patterns: &[&str]) -> TextScanner {
        let compiled: Vec<ErrorPattern> = patterns
            .iter()
            .map(|p| ErrorPattern::new(p).unwrap())
            .collect();
        TextScanner::new(&compiled).unwrap()
    }

    fn builtin(text: &str) -> Option<BuiltinClass> {
        scanner(&[]).scan(|| std::iter::once(text), true).builtin
    }

    #[test]
    fn builtin_classes_match_phrases() {
        assert_eq!(
            builtin("request timed out after 30s"),
            Some(BuiltinClass::Timeout)
        );
        assert_eq!(
            builtin("grpc: DEADLINE exceeded"),
            Some(BuiltinClass::Timeout)
        );
        assert_eq!(
            builtin("Connection reset by peer"),
            Some(BuiltinClass::Connection)
        );
        assert_eq!(
            builtin("temporary name resolution failure"),
            Some(BuiltinClass::Connection)
        );
        assert_eq!(builtin("invalid argument"), None);
        assert_eq!(builtin("connection timeout"), Some(BuiltinClass::Timeout));
    }

    #[test]
    fn every_phrase_is_found_alone_and_inside_text() {
        for phrase in TIMEOUT_PHRASES {
            assert_eq!(builtin(phrase), Some(BuiltinClass::Timeout), "{phrase}");
        }
        for phrase in CONNECTION_PHRASES {
            let text = format!("error: {}!", phrase.to_ascii_uppercase());
            assert_eq!(builtin(&text), Some(BuiltinClass::Connection), "{phrase}");
        }
    }

    #[test]
    fn builtin_classes_agree_with_plain_substring_search() {
        let texts = [
            "",
            "t",
            "timeou",
            "the connection was reset at time of day",
            "deadline",
            "ename resolution",
            "é timed out é",
            "time\nout",
        ];
        for text in texts {
            let naive = if TIMEOUT_PHRASES.iter().any(|p| text.contains(p)) {
                Some(BuiltinClass::Timeout)
            } else if CONNECTION_PHRASES.iter().any(|p| text.contains(p)) {
                Some(BuiltinClass::Connection)
            } else {
                None
            };
            assert_eq!(builtin(text), naive, "{text}");
        }
    }

    #[test]
    fn builtin_classes_are_skipped_when_not_asked_for() {
        let findings = scanner(&[]).scan(|| std::iter::once("timed out"), false);
        assert_eq!(findings.builtin, None);
    }

    #[test]
    fn scan_agrees_with_the_regex_engine() {
        let patterns = [
            "timeout",
            "connection.*reset",
            "temporary.*failure",
            "a.*a",
            ".*",
            "",
            "x.*",
            ".*y",
            "rate limit",
            "Time Out",
            "a.*b.*c",
            "HTTP 5\\d\\d",
            "rate.?limit",
        ];
        let texts = [
            "",
            "a",
            "aa",
            "TIMEOUT",
            "read timeout",
            "connection reset",
            "Connection was RESET",
            "reset connection",
            "connection\nreset",
            "connection reset\nnothing",
            "temporary failure",
            "temporary.failure",
            "Rate Limit exceeded",
            "ratelimit",
            "time out",
            "abc",
            "acb",
            "a\nbc",
            "x",
            "yx",
            "ÉtimeoutÉ",
            "temporary \u{1F600} failure",
            "carriage\r\nreturn",
            "http 503 upstream",
            "aaa b c",
        ];
        for pattern in patterns {
            let compiled = ErrorPattern::new(pattern).unwrap();
            let alone = TextScanner::new(std::slice::from_ref(&compiled)).unwrap();
            for text in texts {
                let scanned = alone.scan(|| std::iter::once(text), true).pattern == Some(0);
                assert_eq!(
                    scanned,
                    compiled.regex().is_match(text),
                    "pattern {pattern:?} on {text:?}"
                );
            }
        }
    }

    #[test]
    fn parts_are_separate_lines() {
        let scanner = scanner(&["connection.*reset"]);
        let split = ["connection", "reset"];
        assert_eq!(scanner.scan(|| split.iter().copied(), true).pattern, None);
        let same = ["x", "connection was reset"];
        assert_eq!(scanner.scan(|| same.iter().copied(), true).pattern, Some(0));
    }

    #[test]
    fn first_matching_pattern_in_config_order_wins() {
        let scanner = scanner(&["nothing", "5\\d\\d", "reset", "connection"]);
        let text = "connection reset (503)";
        assert_eq!(
            scanner.scan(|| std::iter::once(text), true).pattern,
            Some(1)
        );
        let text = "connection reset";
        assert_eq!(
            scanner.scan(|| std::iter::once(text), true).pattern,
            Some(2)
        );
    }

    #[test]
    fn patterns_sharing_words_each_track_their_own_progress() {
        let scanner = scanner(&["b.*a", "a.*b", "a"]);
        let findings = scanner.scan(|| std::iter::once("xx a yy b"), true);
        assert_eq!(findings.pattern, Some(1));
    }
}
