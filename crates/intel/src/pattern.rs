//! The STIX 2.1 patterning language (STIX 2.1 part 9): a parser for the whole grammar
//! into an [`Pattern`] tree, and ([`eval`]) the part of it tocsin can decide for one
//! event, with a reason for everything else.
//!
//! Patterns come from feeds, so the parser is bounded: at most [`MAX_PATTERN_LEN`] bytes,
//! [`MAX_DEPTH`] nested expressions and [`MAX_COMPARISONS`] comparisons; anything beyond
//! is an error naming where and why, never a panic or a deep recursion.

pub mod eval;

use std::fmt;

use base64::Engine as _;
use jiff::Timestamp;

pub use eval::{Evaluable, Field, Refusal, Witness, compile};

/// Longer patterns are refused before lexing; the longest published ones (long OR chains
/// of hashes) stay far below this.
pub const MAX_PATTERN_LEN: usize = 64 * 1024;
/// Nesting of parentheses and brackets, so the recursive parser cannot exhaust the stack.
pub const MAX_DEPTH: usize = 64;
/// Comparisons in one pattern, set members included.
pub const MAX_COMPARISONS: usize = 4096;

/// A parsed pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub root: ObservationExpr,
}

/// Observation expressions: each `[...]` is compared with one observation (event).
#[derive(Clone, Debug, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparisons ]`.
    Observation(ComparisonExpr),
    /// Two or more operands; chains are kept flat, so nesting only comes from parentheses.
    And(Vec<ObservationExpr>),
    Or(Vec<ObservationExpr>),
    FollowedBy(Vec<ObservationExpr>),
    Qualified(Box<ObservationExpr>, Qualifier),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`.
    Within(f64),
    /// `REPEATS n TIMES`.
    Repeats(u64),
    /// `START t'..' STOP t'..'`.
    StartStop(Timestamp, Timestamp),
}

impl Qualifier {
    fn kind(&self) -> &'static str {
        match self {
            Qualifier::Within(_) => "WITHIN",
            Qualifier::Repeats(_) => "REPEATS",
            Qualifier::StartStop(..) => "START/STOP",
        }
    }
}

/// Comparison expressions inside one `[...]`.
#[derive(Clone, Debug, PartialEq)]
pub enum ComparisonExpr {
    /// Two or more operands, kept flat like [`ObservationExpr::And`].
    And(Vec<ComparisonExpr>),
    Or(Vec<ComparisonExpr>),
    Comparison(Comparison),
    /// `EXISTS path`, or `NOT EXISTS path` when `negated`.
    Exists {
        path: ObjectPath,
        negated: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    /// `NOT` before the operator.
    pub negated: bool,
    pub operator: Operator,
    /// For `IN`, a [`Constant::Set`].
    pub value: Constant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Gt => ">",
            Operator::Le => "<=",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
        })
    }
}

/// `type:property.key[0].'quoted key'[*]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectPath {
    pub object_type: String,
    pub steps: Vec<PathStep>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Key(String),
    Index(i64),
    /// `[*]`: any member of a list.
    AnyIndex,
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let plain = key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
                    if plain {
                        f.write_str(key)?;
                    } else {
                        write!(f, "'{}'", key.replace('\\', "\\\\").replace('\'', "\\'"))?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Timestamp(Timestamp),
    /// `h'...'`.
    Hex(Vec<u8>),
    /// `b'...'`.
    Binary(Vec<u8>),
    /// `( a, b, ... )` after `IN`.
    Set(Vec<Constant>),
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Constant::Int(n) => write!(f, "{n}"),
            Constant::Float(x) => write!(f, "{x}"),
            Constant::Bool(b) => write!(f, "{b}"),
            Constant::Timestamp(t) => write!(f, "t'{t}'"),
            Constant::Hex(bytes) => write!(f, "h'{}'", hex::encode(bytes)),
            Constant::Binary(bytes) => write!(
                f,
                "b'{}'",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ),
            Constant::Set(members) => {
                f.write_str("(")?;
                for (i, member) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{member}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Why a pattern is not STIX 2.1 patterning, and where: `offset` is the byte offset of
/// the offending token (0 is the first character).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid STIX pattern at offset {offset}: {reason}")]
pub struct ParseError {
    pub offset: usize,
    pub reason: String,
}

/// Parses a STIX 2.1 pattern.
pub fn parse(text: &str) -> Result<Pattern, ParseError> {
    if text.len() > MAX_PATTERN_LEN {
        return Err(ParseError {
            offset: MAX_PATTERN_LEN,
            reason: format!("the pattern is longer than {MAX_PATTERN_LEN} bytes"),
        });
    }
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
        comparisons: 0,
        end: text.len(),
    };
    let root = parser.observation_expressions()?;
    match parser.peek() {
        Token::Eof => Ok(Pattern { root }),
        other => Err(parser.error(format!(
            "expected the end of the pattern, found {}",
            other.describe()
        ))),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Colon,
    Dot,
    Star,
    Op(&'static str),
    Word(String),
    Str(String),
    Int(i64),
    Float(f64),
    Timestamp(Timestamp),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
    Eof,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::LBracket => "'['".into(),
            Token::RBracket => "']'".into(),
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::Comma => "','".into(),
            Token::Colon => "':'".into(),
            Token::Dot => "'.'".into(),
            Token::Star => "'*'".into(),
            Token::Op(op) => format!("'{op}'"),
            Token::Word(w) => format!("'{}'", truncate(w)),
            Token::Str(s) => format!("the string '{}'", truncate(s)),
            Token::Int(n) => format!("the number {n}"),
            Token::Float(x) => format!("the number {x}"),
            Token::Timestamp(_) => "a timestamp".into(),
            Token::Hex(_) => "a hex constant".into(),
            Token::Binary(_) => "a binary constant".into(),
            Token::Eof => "the end of the pattern".into(),
        }
    }
}

fn truncate(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn lex(text: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let err = |offset: usize, reason: String| ParseError { offset, reason };
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let token = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'[' => {
                i += 1;
                Token::LBracket
            }
            b']' => {
                i += 1;
                Token::RBracket
            }
            b'(' => {
                i += 1;
                Token::LParen
            }
            b')' => {
                i += 1;
                Token::RParen
            }
            b',' => {
                i += 1;
                Token::Comma
            }
            b':' => {
                i += 1;
                Token::Colon
            }
            b'*' => {
                i += 1;
                Token::Star
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = bytes.get(i..i + 2).unwrap_or(&[]);
                let (op, len) = match two {
                    b"==" => ("=", 2),
                    b"!=" | b"<>" => ("!=", 2),
                    b"<=" => ("<=", 2),
                    b">=" => (">=", 2),
                    _ => match b {
                        b'=' => ("=", 1),
                        b'<' => ("<", 1),
                        b'>' => (">", 1),
                        _ => return Err(err(i, "'!' must be followed by '='".into())),
                    },
                };
                i += len;
                Token::Op(op)
            }
            b'\'' => {
                let (value, next) = string_literal(text, i)?;
                i = next;
                Token::Str(value)
            }
            b't' | b'h' | b'b' if bytes.get(i + 1) == Some(&b'\'') => {
                let (value, next) = string_literal(text, i + 1)?;
                i = next;
                match b {
                    b't' => Token::Timestamp(timestamp(&value).ok_or_else(|| {
                        err(
                            start,
                            format!(
                                "t'{}' is not a timestamp of the form 2016-06-01T01:30:00.123Z",
                                truncate(&value)
                            ),
                        )
                    })?),
                    b'h' => {
                        if value.len() % 2 != 0 {
                            return Err(err(start, "a hex constant needs pairs of digits".into()));
                        }
                        Token::Hex(hex::decode(&value).map_err(|_| {
                            err(start, format!("h'{}' is not hex", truncate(&value)))
                        })?)
                    }
                    _ => Token::Binary(base64_constant(&value).ok_or_else(|| {
                        err(start, format!("b'{}' is not base64", truncate(&value)))
                    })?),
                }
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'-')
                {
                    i += 1;
                }
                Token::Word(text[start..i].to_string())
            }
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                // A '.' is a path separator unless a digit follows and no word precedes
                // (`hashes.MD5` vs `.5`).
                let after_path = matches!(
                    tokens.last(),
                    Some((Token::Word(_) | Token::Str(_) | Token::RBracket, _))
                );
                if b == b'.' && (after_path || !bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
                    i += 1;
                    Token::Dot
                } else {
                    let (token, next) = number(text, i)?;
                    i = next;
                    token
                }
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(err(i, format!("unexpected character {ch:?}")));
            }
        };
        tokens.push((token, start));
    }
    tokens.push((Token::Eof, text.len()));
    Ok(tokens)
}

/// A quoted string starting at the quote at `at`; only `\'` and `\\` are escapes (the
/// grammar's StringLiteral). Returns the value and the offset after the closing quote.
fn string_literal(text: &str, at: usize) -> Result<(String, usize), ParseError> {
    let mut out = String::new();
    let mut chars = text[at + 1..].char_indices();
    while let Some((i, ch)) = chars.next() {
        match ch {
            '\'' => return Ok((out, at + 1 + i + 1)),
            '\\' => match chars.next() {
                Some((_, c @ ('\'' | '\\'))) => out.push(c),
                Some((j, c)) => {
                    return Err(ParseError {
                        offset: at + 1 + j - 1,
                        reason: format!(
                            "'\\{c}' is not an escape in a STIX string (only \\' and \\\\ are)"
                        ),
                    });
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err(ParseError {
        offset: at,
        reason: "the string is not closed by a quote".into(),
    })
}

fn timestamp(text: &str) -> Option<Timestamp> {
    // The grammar's form exactly: date, 'T', time, optional fraction, 'Z'.
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && b.last() == Some(&b'Z')
        && (b.len() == 20 || (b[19] == b'.' && b.len() > 21 && digits(20..b.len() - 1)));
    if !shape {
        return None;
    }
    text.parse().ok()
}

fn base64_constant(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(4) {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

fn number(text: &str, at: usize) -> Result<(Token, usize), ParseError> {
    let bytes = text.as_bytes();
    let mut i = at;
    if matches!(bytes[i], b'+' | b'-') {
        i += 1;
    }
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut float = false;
    if i < bytes.len() && bytes[i] == b'.' {
        let frac_start = i + 1;
        let mut j = frac_start;
        while j < bytes.len() && bytes[j].is_ascii_digit() {
            j += 1;
        }
        if j > frac_start {
            float = true;
            i = j;
        }
    }
    let literal = &text[at..i];
    let bad = |reason: String| ParseError { offset: at, reason };
    if int_digits == 0 && !float {
        return Err(bad(format!("'{}' is not a number", truncate(literal))));
    }
    if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
        return Err(bad(format!(
            "'{}' is neither a number nor a name (a string needs quotes)",
            truncate(
                &text[at..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '+'))
                    .collect::<String>()
            )
        )));
    }
    if float {
        let value: f64 = literal
            .parse()
            .map_err(|_| bad(format!("'{literal}' is not a number")))?;
        return Ok((Token::Float(value), i));
    }
    let digits = &text[int_start..i];
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(bad(format!("'{literal}': an integer has no leading zero")));
    }
    let value: i64 = literal
        .trim_start_matches('+')
        .parse()
        .map_err(|_| bad(format!("'{}' is out of range", truncate(literal))))?;
    Ok((Token::Int(value), i))
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    depth: usize,
    comparisons: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.at).map_or(&Token::Eof, |(t, _)| t)
    }

    fn offset(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end, |(_, o)| *o)
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn error(&self, reason: String) -> ParseError {
        ParseError {
            offset: self.offset(),
            reason,
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Token::Word(w) if w == word)
    }

    fn expect(&mut self, want: &Token, what: &str) -> Result<(), ParseError> {
        if self.peek() == want {
            self.next();
            Ok(())
        } else {
            Err(self.error(format!("expected {what}, found {}", self.peek().describe())))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), ParseError> {
        if self.is_word(word) {
            self.next();
            Ok(())
        } else {
            Err(self.error(format!("expected {word}, found {}", self.peek().describe())))
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// FOLLOWEDBY binds loosest, then OR, then AND; all left-associative.
    fn observation_expressions(&mut self) -> Result<ObservationExpr, ParseError> {
        self.chain(
            "FOLLOWEDBY",
            Self::observation_or,
            ObservationExpr::FollowedBy,
        )
    }

    fn observation_or(&mut self) -> Result<ObservationExpr, ParseError> {
        self.chain("OR", Self::observation_and, ObservationExpr::Or)
    }

    fn observation_and(&mut self) -> Result<ObservationExpr, ParseError> {
        self.chain("AND", Self::observation_qualified, ObservationExpr::And)
    }

    fn observation_qualified(&mut self) -> Result<ObservationExpr, ParseError> {
        let bracketed = *self.peek() == Token::LBracket;
        let mut expr = self.observation_primary()?;
        // As the reference validator does, one kind of qualifier may appear once directly on
        // a bracketed observation; a parenthesised group may be qualified again.
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(qualifier) = self.qualifier()? {
            if bracketed {
                let kind = qualifier.kind();
                if seen.contains(&kind) {
                    return Err(ParseError {
                        offset: self
                            .tokens
                            .get(self.at.saturating_sub(1))
                            .map_or(self.end, |t| t.1),
                        reason: format!("the {kind} qualifier appears twice on one observation"),
                    });
                }
                seen.push(kind);
            }
            expr = ObservationExpr::Qualified(Box::new(expr), qualifier);
        }
        Ok(expr)
    }

    fn qualifier(&mut self) -> Result<Option<Qualifier>, ParseError> {
        let qualifier = if self.is_word("WITHIN") {
            self.next();
            let seconds = match self.next() {
                Token::Int(n) if n > 0 => n as f64,
                Token::Float(x) if x > 0.0 && x.is_finite() => x,
                other => {
                    self.at -= 1;
                    return Err(self.error(format!(
                        "WITHIN needs a positive number of seconds, found {}",
                        other.describe()
                    )));
                }
            };
            self.expect_word("SECONDS")?;
            Qualifier::Within(seconds)
        } else if self.is_word("REPEATS") {
            self.next();
            let times = match self.next() {
                Token::Int(n) if n > 0 => n.unsigned_abs(),
                other => {
                    self.at -= 1;
                    return Err(self.error(format!(
                        "REPEATS needs a positive whole number, found {}",
                        other.describe()
                    )));
                }
            };
            self.expect_word("TIMES")?;
            Qualifier::Repeats(times)
        } else if self.is_word("START") {
            self.next();
            let Token::Timestamp(start) = self.next() else {
                self.at -= 1;
                return Err(self.error("START needs a timestamp t'...'".into()));
            };
            self.expect_word("STOP")?;
            let Token::Timestamp(stop) = self.next() else {
                self.at -= 1;
                return Err(self.error("STOP needs a timestamp t'...'".into()));
            };
            Qualifier::StartStop(start, stop)
        } else {
            return Ok(None);
        };
        Ok(Some(qualifier))
    }

    fn observation_primary(&mut self) -> Result<ObservationExpr, ParseError> {
        match self.peek() {
            Token::LBracket => {
                self.next();
                self.enter()?;
                let inner = self.comparison_or()?;
                self.expect(&Token::RBracket, "']' closing the observation")?;
                self.depth -= 1;
                Ok(ObservationExpr::Observation(inner))
            }
            Token::LParen => {
                self.next();
                self.enter()?;
                let inner = self.observation_expressions()?;
                self.expect(&Token::RParen, "')'")?;
                self.depth -= 1;
                Ok(inner)
            }
            other => Err(self.error(format!(
                "expected '[' starting an observation, found {}",
                other.describe()
            ))),
        }
    }

    fn comparison_or(&mut self) -> Result<ComparisonExpr, ParseError> {
        self.chain("OR", Self::comparison_and, ComparisonExpr::Or)
    }

    fn comparison_and(&mut self) -> Result<ComparisonExpr, ParseError> {
        self.chain("AND", Self::comparison_primary, ComparisonExpr::And)
    }

    /// `operand (word operand)*`, kept flat: one operand as itself, more joined by `join`.
    fn chain<T>(
        &mut self,
        word: &str,
        operand: fn(&mut Self) -> Result<T, ParseError>,
        join: fn(Vec<T>) -> T,
    ) -> Result<T, ParseError> {
        let mut operands = vec![operand(self)?];
        while self.is_word(word) {
            self.next();
            operands.push(operand(self)?);
        }
        Ok(if operands.len() == 1 {
            operands.remove(0)
        } else {
            join(operands)
        })
    }

    fn count(&mut self, n: usize) -> Result<(), ParseError> {
        self.comparisons += n;
        if self.comparisons > MAX_COMPARISONS {
            return Err(self.error(format!("more than {MAX_COMPARISONS} comparisons")));
        }
        Ok(())
    }

    fn comparison_primary(&mut self) -> Result<ComparisonExpr, ParseError> {
        if *self.peek() == Token::LParen {
            self.next();
            self.enter()?;
            let inner = self.comparison_or()?;
            self.expect(&Token::RParen, "')'")?;
            self.depth -= 1;
            return Ok(inner);
        }
        let exists_negated = self.is_word("NOT")
            && matches!(self.tokens.get(self.at + 1), Some((Token::Word(w), _)) if w == "EXISTS");
        if exists_negated || self.is_word("EXISTS") {
            if exists_negated {
                self.next();
            }
            self.next();
            self.count(1)?;
            let path = self.object_path()?;
            return Ok(ComparisonExpr::Exists {
                path,
                negated: exists_negated,
            });
        }
        let path = self.object_path()?;
        let negated = self.is_word("NOT");
        if negated {
            self.next();
        }
        let operator = match self.peek().clone() {
            Token::Op(op) => match op {
                "=" => Operator::Eq,
                "!=" => Operator::Ne,
                "<" => Operator::Lt,
                ">" => Operator::Gt,
                "<=" => Operator::Le,
                _ => Operator::Ge,
            },
            Token::Word(w) => match w.as_str() {
                "IN" => Operator::In,
                "LIKE" => Operator::Like,
                "MATCHES" => Operator::Matches,
                "ISSUBSET" => Operator::IsSubset,
                "ISSUPERSET" => Operator::IsSuperset,
                _ => {
                    return Err(self.error(format!(
                        "expected a comparison operator after {path}, found '{}'",
                        truncate(&w)
                    )));
                }
            },
            other => {
                return Err(self.error(format!(
                    "expected a comparison operator after {path}, found {}",
                    other.describe()
                )));
            }
        };
        self.next();
        let value = match operator {
            Operator::In => self.set()?,
            Operator::Like | Operator::Matches | Operator::IsSubset | Operator::IsSuperset => {
                match self.next() {
                    Token::Str(s) => Constant::String(s),
                    other => {
                        self.at -= 1;
                        return Err(self.error(format!(
                            "{operator} needs a quoted string, found {}",
                            other.describe()
                        )));
                    }
                }
            }
            Operator::Eq | Operator::Ne => self.primitive()?,
            Operator::Lt | Operator::Gt | Operator::Le | Operator::Ge => {
                let value = self.primitive()?;
                if matches!(value, Constant::Bool(_)) {
                    self.at -= 1;
                    return Err(self.error(format!("{operator} cannot order booleans")));
                }
                value
            }
        };
        self.count(1)?;
        Ok(ComparisonExpr::Comparison(Comparison {
            path,
            negated,
            operator,
            value,
        }))
    }

    fn primitive(&mut self) -> Result<Constant, ParseError> {
        let constant = match self.next() {
            Token::Str(s) => Constant::String(s),
            Token::Int(n) => Constant::Int(n),
            Token::Float(x) => Constant::Float(x),
            Token::Timestamp(t) => Constant::Timestamp(t),
            Token::Hex(h) => Constant::Hex(h),
            Token::Binary(b) => Constant::Binary(b),
            Token::Word(w) if w == "true" => Constant::Bool(true),
            Token::Word(w) if w == "false" => Constant::Bool(false),
            other => {
                self.at -= 1;
                let hint = if matches!(other, Token::Word(_)) {
                    " (a string needs quotes)"
                } else {
                    ""
                };
                return Err(self.error(format!(
                    "expected a constant, found {}{hint}",
                    other.describe()
                )));
            }
        };
        Ok(constant)
    }

    fn set(&mut self) -> Result<Constant, ParseError> {
        self.expect(&Token::LParen, "'(' starting the IN list")?;
        let mut members = Vec::new();
        if *self.peek() == Token::RParen {
            self.next();
            return Ok(Constant::Set(members));
        }
        loop {
            members.push(self.primitive()?);
            self.count(1)?;
            match self.next() {
                Token::Comma => {}
                Token::RParen => return Ok(Constant::Set(members)),
                other => {
                    self.at -= 1;
                    return Err(self.error(format!(
                        "expected ',' or ')' in the IN list, found {}",
                        other.describe()
                    )));
                }
            }
        }
    }

    fn object_path(&mut self) -> Result<ObjectPath, ParseError> {
        let object_type = match self.next() {
            Token::Word(w) if !is_keyword(&w) => w,
            other => {
                self.at -= 1;
                return Err(self.error(format!(
                    "expected an object path such as file:name, found {}",
                    other.describe()
                )));
            }
        };
        if *self.peek() != Token::Colon {
            return Err(self.error(format!(
                "expected ':' after the object type '{}', found {}",
                truncate(&object_type),
                self.peek().describe()
            )));
        }
        self.next();
        let mut steps = Vec::new();
        match self.next() {
            Token::Word(w) => steps.push(PathStep::Key(w)),
            Token::Str(s) => steps.push(PathStep::Key(s)),
            other => {
                self.at -= 1;
                return Err(self.error(format!(
                    "expected a property name after '{object_type}:', found {}",
                    other.describe()
                )));
            }
        }
        loop {
            match self.peek() {
                Token::Dot => {
                    self.next();
                    match self.next() {
                        Token::Word(w) => steps.push(PathStep::Key(w)),
                        Token::Str(s) => steps.push(PathStep::Key(s)),
                        other => {
                            self.at -= 1;
                            return Err(self.error(format!(
                                "expected a property name after '.', found {}",
                                other.describe()
                            )));
                        }
                    }
                }
                Token::LBracket => {
                    self.next();
                    let step = match self.next() {
                        Token::Star => PathStep::AnyIndex,
                        Token::Int(n) => PathStep::Index(n),
                        other => {
                            self.at -= 1;
                            return Err(self.error(format!(
                                "expected a list index or '*', found {}",
                                other.describe()
                            )));
                        }
                    };
                    self.expect(&Token::RBracket, "']' closing the list index")?;
                    steps.push(step);
                }
                _ => break,
            }
            if steps.len() > MAX_DEPTH {
                return Err(self.error(format!("an object path longer than {MAX_DEPTH} steps")));
            }
        }
        Ok(ObjectPath { object_type, steps })
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "AND"
            | "OR"
            | "NOT"
            | "FOLLOWEDBY"
            | "LIKE"
            | "MATCHES"
            | "ISSUPERSET"
            | "ISSUBSET"
            | "EXISTS"
            | "IN"
            | "START"
            | "STOP"
            | "SECONDS"
            | "WITHIN"
            | "REPEATS"
            | "TIMES"
            | "true"
            | "false"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(text: &str) -> Comparison {
        match parse(text).map(|p| p.root) {
            Ok(ObservationExpr::Observation(ComparisonExpr::Comparison(c))) => c,
            other => panic!("not one comparison: {other:?}"),
        }
    }

    #[test]
    fn quoted_keys_indices_and_escapes() {
        let c = comparison(r"[file:hashes.'SHA-256' = 'it\'s \\ here']");
        assert_eq!(c.path.object_type, "file");
        assert_eq!(
            c.path.steps,
            [
                PathStep::Key("hashes".into()),
                PathStep::Key("SHA-256".into())
            ]
        );
        assert_eq!(c.value, Constant::String(r"it's \ here".into()));
        assert_eq!(c.path.to_string(), "file:hashes.'SHA-256'");

        let c = comparison("[email-message:body_multipart[*].body_raw_ref.name NOT LIKE 'a%']");
        assert!(c.negated);
        assert_eq!(c.operator, Operator::Like);
        assert_eq!(
            c.path.to_string(),
            "email-message:body_multipart[*].body_raw_ref.name"
        );
        let c = comparison("[x:list[-1] == 1.5]");
        assert_eq!(c.path.steps[1], PathStep::Index(-1));
        assert_eq!(c.value, Constant::Float(1.5));
    }

    #[test]
    fn constants_of_every_kind() {
        assert_eq!(
            comparison("[a:b = h'ffd8']").value,
            Constant::Hex(vec![0xff, 0xd8])
        );
        assert_eq!(
            comparison("[a:b = b'dGhpcyBpcyBhIHRlc3Q=']").value,
            Constant::Binary(b"this is a test".to_vec())
        );
        assert_eq!(comparison("[a:b != true]").value, Constant::Bool(true));
        assert_eq!(comparison("[a:b > -7]").value, Constant::Int(-7));
        let t = comparison("[a:b = t'2014-01-13T07:03:17Z']").value;
        assert_eq!(
            t,
            Constant::Timestamp(
                "2014-01-13T07:03:17Z"
                    .parse()
                    .expect("the test input is valid")
            )
        );
        assert_eq!(
            comparison("[a:b IN (443, 'x', 8.5)]").value,
            Constant::Set(vec![
                Constant::Int(443),
                Constant::String("x".into()),
                Constant::Float(8.5)
            ])
        );
    }

    #[test]
    fn observation_operators_bind_and_then_or_then_followedby() {
        let p = parse("[a:b = 1] OR [a:b = 2] AND [a:b = 3] FOLLOWEDBY [a:b = 4] WITHIN 5 SECONDS")
            .expect("the test input is valid");
        let ObservationExpr::FollowedBy(operands) = p.root else {
            panic!("FOLLOWEDBY is not the root");
        };
        assert!(
            matches!(&operands[0], ObservationExpr::Or(or) if matches!(or[1], ObservationExpr::And(_)))
        );
        assert!(
            matches!(operands[1], ObservationExpr::Qualified(_, Qualifier::Within(s)) if s == 5.0)
        );
    }

    #[test]
    fn errors_name_the_offset_and_the_reason() {
        let e = parse("[file:size = ]").expect_err("the test input is refused");
        assert_eq!(e.offset, 13);
        assert!(e.reason.contains("expected a constant"), "{e}");
        let e = parse("[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]")
            .expect_err("the test input is refused");
        assert_eq!(e.offset, 19);
        let e = parse("[foo:bar=1] within 2 seconds").expect_err("the test input is refused");
        assert_eq!(e.offset, 12);
        let e = parse("[a:b = 'open").expect_err("the test input is refused");
        assert_eq!(e.reason, "the string is not closed by a quote");
        let e = parse(r"[a:b = 'bad \n escape']").expect_err("the test input is refused");
        assert!(e.reason.contains("not an escape"), "{e}");
        let deep = format!("{}[a:b = 1]{}", "(".repeat(100), ")".repeat(100));
        assert!(
            parse(&deep)
                .expect_err("the test input is refused")
                .reason
                .contains("nested deeper")
        );
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Long chains stay flat, so evaluation and drop never recurse deeply.
    #[test]
    fn a_chain_of_thousands_of_comparisons_is_one_level() {
        let chain = vec!["a:b = 'x'"; MAX_COMPARISONS].join(" AND ");
        let pattern = parse(&format!("[{chain}]")).expect("the test input is valid");
        let ObservationExpr::Observation(ComparisonExpr::And(operands)) = pattern.root else {
            panic!("not one flat AND");
        };
        assert_eq!(operands.len(), MAX_COMPARISONS);
        let too_many = vec!["a:b = 'x'"; MAX_COMPARISONS + 1].join(" OR ");
        let e = parse(&format!("[{too_many}]")).expect_err("the test input is refused");
        assert!(e.reason.contains("more than 4096 comparisons"), "{e}");
    }

    /// Deterministic mutations of valid patterns (bytes replaced, inserted, cut, in and
    /// out of multi-byte characters): every outcome is a pattern or an error whose offset
    /// lies inside the text.
    #[test]
    fn mutated_patterns_never_panic() {
        let seeds = [
            "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
            "([a:b[*].'c\\'d' NOT IN ('x', 2, -3.5, t'2016-06-01T01:30:00Z')] OR [e:f MATCHES 'ü+'] AND [g:h LIKE 'ß%']) WITHIN 5 SECONDS",
            "[x:y = h'ffd8' AND x:z = b'dGVzdA=='] REPEATS 2 TIMES FOLLOWEDBY [EXISTS x:w] START t'2016-06-01T01:30:00.1Z' STOP t'2017-06-01T01:30:00Z'",
        ];
        let alphabet: Vec<char> = "[]()'\\.:,*=!<>-+0123456789abtzhAND OR NOT_éü\u{1F600}"
            .chars()
            .collect();
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for seed in seeds {
            for _ in 0..3000 {
                let mut chars: Vec<char> = seed.chars().collect();
                for _ in 0..(1 + next() % 4) {
                    let at = (next() as usize) % (chars.len() + 1);
                    let ch = alphabet[(next() as usize) % alphabet.len()];
                    match next() % 3 {
                        0 if at < chars.len() => chars[at] = ch,
                        1 => chars.insert(at, ch),
                        _ => chars.truncate(at.max(1)),
                    }
                }
                let text: String = chars.into_iter().collect();
                match parse(&text) {
                    Ok(pattern) => {
                        let _ = eval::compile(&pattern);
                    }
                    Err(e) => assert!(e.offset <= text.len(), "{text}: {e}"),
                }
            }
        }
    }
}
