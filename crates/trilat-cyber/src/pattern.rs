//! The STIX 2.1 patterning language: a lexer and recursive-descent parser
//! producing a [`Pattern`] tree, with the specification's semantic checks
//! (operand types, qualifiers, one object type per AND-joined observation).
//!
//! Grammar (STIX 2.1 part 9, precedence low to high):
//! ```text
//! pattern      := obs_followed EOF
//! obs_followed := obs_or ("FOLLOWEDBY" obs_or)*
//! obs_or       := obs_and ("OR" obs_and)*
//! obs_and      := obs_unit ("AND" obs_unit)*
//! obs_unit     := ("[" cmp_or "]" | "(" obs_followed ")") qualifier*
//! qualifier    := "WITHIN" number "SECONDS" | "REPEATS" int "TIMES"
//!               | "START" t'…' "STOP" t'…'
//! cmp_or       := cmp_and ("OR" cmp_and)*
//! cmp_and      := cmp_unit ("AND" cmp_unit)*
//! cmp_unit     := "(" cmp_or ")" | "EXISTS" path | path "NOT"? op literal
//! path         := type ":" component ("." component | "[" (int | "*") "]")*
//! ```

use std::fmt;

use crate::error::{Error, ErrorKind};

/// Longest pattern accepted, bytes.
pub const PATTERN_LEN_MAX: usize = 64 * 1024;
/// Deepest nesting of parentheses and brackets accepted.
pub const PATTERN_DEPTH_MAX: usize = 64;

/// A parsed pattern: one observation expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// The top observation expression.
    pub observation: Observation,
}

/// An observation expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Observation {
    /// `[ comparison ]`.
    Comparison(Comparison),
    /// Observations joined by `AND` (all observed).
    And(Vec<Observation>),
    /// Observations joined by `OR` (any observed).
    Or(Vec<Observation>),
    /// Observations joined by `FOLLOWEDBY` (in this order).
    FollowedBy(Vec<Observation>),
    /// An observation with a qualifier.
    Qualified(Box<Observation>, Qualifier),
}

/// A qualifier on an observation expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`.
    Within(Number),
    /// `REPEATS n TIMES`.
    Repeats(i64),
    /// `START t'…' STOP t'…'`.
    StartStop(String, String),
}

/// A comparison expression inside `[ … ]`.
#[derive(Clone, Debug, PartialEq)]
pub enum Comparison {
    /// A single test.
    Test(Test),
    /// Tests joined by `AND`.
    And(Vec<Comparison>),
    /// Tests joined by `OR`.
    Or(Vec<Comparison>),
}

/// One property test.
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// `EXISTS path`.
    Exists(ObjectPath),
    /// `path [NOT] op literal`.
    Compare {
        /// The property tested.
        path: ObjectPath,
        /// Whether `NOT` precedes the operator.
        negated: bool,
        /// The operator.
        operator: Operator,
        /// The right-hand side.
        literal: Literal,
    },
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN ( … )`.
    In,
    /// `LIKE` (SQL wildcards).
    Like,
    /// `MATCHES` (PCRE).
    Matches,
    /// `ISSUBSET` (CIDR).
    IsSubset,
    /// `ISSUPERSET` (CIDR).
    IsSuperset,
}

impl Operator {
    fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::Like => "LIKE",
            Operator::Matches => "MATCHES",
            Operator::IsSubset => "ISSUBSET",
            Operator::IsSuperset => "ISSUPERSET",
        }
    }
}

/// A number as written (kept as text so that printing reproduces it).
#[derive(Clone, Debug, PartialEq)]
pub struct Number(pub String);

/// A literal value.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// An integer.
    Int(i64),
    /// A floating-point number, as written.
    Float(Number),
    /// A string (unescaped).
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `t'…'`.
    Timestamp(String),
    /// `h'…'`.
    Hex(String),
    /// `b'…'`.
    Binary(String),
    /// `( lit, lit … )` for `IN`.
    Set(Vec<Literal>),
}

/// `type:property.sub[0].x`.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectPath {
    /// The SCO type (`ipv4-addr`).
    pub object_type: String,
    /// The path steps.
    pub steps: Vec<PathStep>,
}

/// One step of an object path.
#[derive(Clone, Debug, PartialEq)]
pub enum PathStep {
    /// A property name (quoted when written as a string: `hashes.'SHA-256'`).
    Property(String),
    /// A list index.
    Index(i64),
    /// Any list element, `[*]`.
    AnyIndex,
}

/// Parses and checks a STIX pattern.
pub fn parse_pattern(text: &str) -> Result<Pattern, Error> {
    if text.len() > PATTERN_LEN_MAX {
        return Err(pattern_error(
            0,
            format!("{} bytes, more than {PATTERN_LEN_MAX}", text.len()),
        ));
    }
    let tokens = lex(text)?;
    let mut parser = Parser {
        tokens,
        token_idx: 0,
        depth: 0,
        text_len: text.len(),
    };
    let observation = parser.observation_followed()?;
    if let Some(token) = parser.peek() {
        return Err(pattern_error(
            token.offset,
            format!("unexpected {} after the end of the pattern", token.kind),
        ));
    }
    Ok(Pattern { observation })
}

fn pattern_error(offset: usize, message: impl fmt::Display) -> Error {
    Error::bare(ErrorKind::Pattern(format!("at byte {offset}: {message}"))).at_property("pattern")
}

#[derive(Clone, Debug, PartialEq)]
enum TokenKind {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Op(Operator),
    Word(String),
    Int(i64),
    Float(String),
    Str(String),
    Timestamp(String),
    Hex(String),
    Binary(String),
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::LBracket => f.write_str("'['"),
            TokenKind::RBracket => f.write_str("']'"),
            TokenKind::LParen => f.write_str("'('"),
            TokenKind::RParen => f.write_str("')'"),
            TokenKind::Colon => f.write_str("':'"),
            TokenKind::Dot => f.write_str("'.'"),
            TokenKind::Comma => f.write_str("','"),
            TokenKind::Star => f.write_str("'*'"),
            TokenKind::Op(op) => write!(f, "operator {}", op.as_str()),
            TokenKind::Word(w) => write!(f, "{:?}", crate::error::truncate(w, 40)),
            TokenKind::Int(i) => write!(f, "integer {i}"),
            TokenKind::Float(x) => write!(f, "number {x}"),
            TokenKind::Str(_) => f.write_str("a string"),
            TokenKind::Timestamp(_) => f.write_str("a timestamp"),
            TokenKind::Hex(_) => f.write_str("a hex literal"),
            TokenKind::Binary(_) => f.write_str("a binary literal"),
        }
    }
}

#[derive(Clone, Debug)]
struct Token {
    kind: TokenKind,
    offset: usize,
}

fn lex(text: &str) -> Result<Vec<Token>, Error> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let start = pos;
        let byte = bytes[pos];
        let single = match byte {
            b'[' => Some(TokenKind::LBracket),
            b']' => Some(TokenKind::RBracket),
            b'(' => Some(TokenKind::LParen),
            b')' => Some(TokenKind::RParen),
            b':' => Some(TokenKind::Colon),
            b'.' => Some(TokenKind::Dot),
            b',' => Some(TokenKind::Comma),
            b'*' => Some(TokenKind::Star),
            _ => None,
        };
        if byte.is_ascii_whitespace() {
            pos += 1;
            continue;
        }
        if let Some(kind) = single {
            tokens.push(Token {
                kind,
                offset: start,
            });
            pos += 1;
            continue;
        }
        let (kind, end) = match byte {
            b'=' if bytes.get(pos + 1) == Some(&b'=') => (TokenKind::Op(Operator::Eq), pos + 2),
            b'=' => (TokenKind::Op(Operator::Eq), pos + 1),
            b'!' if bytes.get(pos + 1) == Some(&b'=') => (TokenKind::Op(Operator::Ne), pos + 2),
            b'<' if bytes.get(pos + 1) == Some(&b'>') => (TokenKind::Op(Operator::Ne), pos + 2),
            b'<' if bytes.get(pos + 1) == Some(&b'=') => (TokenKind::Op(Operator::Le), pos + 2),
            b'<' => (TokenKind::Op(Operator::Lt), pos + 1),
            b'>' if bytes.get(pos + 1) == Some(&b'=') => (TokenKind::Op(Operator::Ge), pos + 2),
            b'>' => (TokenKind::Op(Operator::Gt), pos + 1),
            b'\'' => {
                let (value, end) = lex_quoted(text, pos)?;
                (TokenKind::Str(value), end)
            }
            b't' | b'h' | b'b' if bytes.get(pos + 1) == Some(&b'\'') => {
                let (value, end) = lex_quoted(text, pos + 1)?;
                let kind = match byte {
                    b't' => TokenKind::Timestamp(value),
                    b'h' => TokenKind::Hex(value),
                    _ => TokenKind::Binary(value),
                };
                (kind, end)
            }
            b'-' | b'+' | b'0'..=b'9' => lex_number(text, pos)?,
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let mut end = pos + 1;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric()
                        || bytes[end] == b'_'
                        || bytes[end] == b'-')
                {
                    end += 1;
                }
                (TokenKind::Word(text[pos..end].to_string()), end)
            }
            _ => {
                let shown = text[pos..].chars().next().unwrap_or('?');
                return Err(pattern_error(
                    pos,
                    format!("unexpected character {shown:?}"),
                ));
            }
        };
        tokens.push(Token {
            kind,
            offset: start,
        });
        debug_assert!(end > pos, "the lexer always advances");
        pos = end;
    }
    Ok(tokens)
}

/// Reads a `'…'` string starting at the quote; `\'` and `\\` are the escapes.
fn lex_quoted(text: &str, quote_pos: usize) -> Result<(String, usize), Error> {
    let bytes = text.as_bytes();
    debug_assert_eq!(bytes[quote_pos], b'\'');
    let mut value = String::new();
    let mut pos = quote_pos + 1;
    let mut segment_start = pos;
    while pos < bytes.len() {
        match bytes[pos] {
            b'\'' => {
                value.push_str(&text[segment_start..pos]);
                return Ok((value, pos + 1));
            }
            b'\\' => {
                value.push_str(&text[segment_start..pos]);
                match bytes.get(pos + 1) {
                    Some(b'\'') => value.push('\''),
                    Some(b'\\') => value.push('\\'),
                    _ => {
                        return Err(pattern_error(
                            pos,
                            "a backslash in a string must escape ' or \\",
                        ))
                    }
                }
                pos += 2;
                segment_start = pos;
            }
            _ => pos += 1,
        }
    }
    Err(pattern_error(quote_pos, "unterminated string"))
}

fn lex_number(text: &str, start: usize) -> Result<(TokenKind, usize), Error> {
    let bytes = text.as_bytes();
    let mut end = start;
    if bytes[end] == b'-' || bytes[end] == b'+' {
        end += 1;
    }
    let digits_start = end;
    while end < bytes.len() && bytes[end].is_ascii_digit() {
        end += 1;
    }
    let mut is_float = false;
    if end < bytes.len() && bytes[end] == b'.' && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        is_float = true;
        end += 1;
        while end < bytes.len() && bytes[end].is_ascii_digit() {
            end += 1;
        }
    }
    if end == digits_start {
        return Err(pattern_error(start, "a sign must be followed by digits"));
    }
    let written = &text[start..end];
    if is_float {
        Ok((TokenKind::Float(written.to_string()), end))
    } else {
        let value = written
            .parse::<i64>()
            .map_err(|_| pattern_error(start, format!("integer {written} out of range")))?;
        Ok((TokenKind::Int(value), end))
    }
}

struct Parser {
    tokens: Vec<Token>,
    token_idx: usize,
    depth: usize,
    text_len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.token_idx)
    }

    fn offset(&self) -> usize {
        self.peek().map_or(self.text_len, |t| t.offset)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.token_idx).cloned();
        if token.is_some() {
            self.token_idx += 1;
        }
        token
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: TokenKind::Word(w), .. }) if w == word)
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let found = self.at_word(word);
        if found {
            self.token_idx += 1;
        }
        found
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.peek().is_some_and(|t| &t.kind == kind)
    }

    fn expect(&mut self, kind: TokenKind) -> Result<(), Error> {
        if self.at(&kind) {
            self.token_idx += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("{kind}")))
        }
    }

    fn expect_word(&mut self, word: &str) -> Result<(), Error> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.unexpected(word))
        }
    }

    fn unexpected(&self, wanted: &str) -> Error {
        match self.peek() {
            Some(token) => pattern_error(
                token.offset,
                format!("expected {wanted}, found {}", token.kind),
            ),
            None => pattern_error(self.text_len, format!("expected {wanted}, found the end")),
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > PATTERN_DEPTH_MAX {
            return Err(pattern_error(
                self.offset(),
                format!("nested deeper than {PATTERN_DEPTH_MAX}"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        debug_assert!(self.depth > 0);
        self.depth -= 1;
    }

    fn observation_followed(&mut self) -> Result<Observation, Error> {
        let mut items = vec![self.observation_or()?];
        while self.eat_word("FOLLOWEDBY") {
            items.push(self.observation_or()?);
        }
        Ok(join(items, Observation::FollowedBy))
    }

    fn observation_or(&mut self) -> Result<Observation, Error> {
        let mut items = vec![self.observation_and()?];
        while self.eat_word("OR") {
            items.push(self.observation_and()?);
        }
        Ok(join(items, Observation::Or))
    }

    fn observation_and(&mut self) -> Result<Observation, Error> {
        let mut items = vec![self.observation_unit()?];
        while self.eat_word("AND") {
            items.push(self.observation_unit()?);
        }
        Ok(join(items, Observation::And))
    }

    fn observation_unit(&mut self) -> Result<Observation, Error> {
        self.enter()?;
        let mut observation = if self.at(&TokenKind::LBracket) {
            self.token_idx += 1;
            let start = self.offset();
            let comparison = self.comparison_or()?;
            check_same_type(&comparison, start)?;
            self.expect(TokenKind::RBracket)?;
            Observation::Comparison(comparison)
        } else if self.at(&TokenKind::LParen) {
            self.token_idx += 1;
            let inner = self.observation_followed()?;
            self.expect(TokenKind::RParen)?;
            inner
        } else {
            return Err(self.unexpected("'[' or '('"));
        };
        while let Some(qualifier) = self.qualifier()? {
            observation = Observation::Qualified(Box::new(observation), qualifier);
        }
        self.leave();
        Ok(observation)
    }

    fn qualifier(&mut self) -> Result<Option<Qualifier>, Error> {
        if self.eat_word("WITHIN") {
            let offset = self.offset();
            let number = match self.next().map(|t| t.kind) {
                Some(TokenKind::Int(i)) if i > 0 => Number(i.to_string()),
                Some(TokenKind::Float(x)) if x.parse::<f64>().is_ok_and(|v| v > 0.0) => Number(x),
                _ => return Err(pattern_error(offset, "WITHIN needs a positive number")),
            };
            self.expect_word("SECONDS")?;
            return Ok(Some(Qualifier::Within(number)));
        }
        if self.eat_word("REPEATS") {
            let offset = self.offset();
            let times = match self.next().map(|t| t.kind) {
                Some(TokenKind::Int(i)) if i > 0 => i,
                _ => return Err(pattern_error(offset, "REPEATS needs a positive integer")),
            };
            self.expect_word("TIMES")?;
            return Ok(Some(Qualifier::Repeats(times)));
        }
        if self.eat_word("START") {
            let start = self.timestamp_literal()?;
            self.expect_word("STOP")?;
            let stop = self.timestamp_literal()?;
            return Ok(Some(Qualifier::StartStop(start, stop)));
        }
        Ok(None)
    }

    fn timestamp_literal(&mut self) -> Result<String, Error> {
        let offset = self.offset();
        match self.next().map(|t| t.kind) {
            Some(TokenKind::Timestamp(t)) => {
                check_pattern_timestamp(&t, offset)?;
                Ok(t)
            }
            _ => Err(pattern_error(offset, "expected a timestamp t'…'")),
        }
    }

    fn comparison_or(&mut self) -> Result<Comparison, Error> {
        let mut items = vec![self.comparison_and()?];
        while self.eat_word("OR") {
            items.push(self.comparison_and()?);
        }
        Ok(join(items, Comparison::Or))
    }

    fn comparison_and(&mut self) -> Result<Comparison, Error> {
        let mut items = vec![self.comparison_unit()?];
        while self.eat_word("AND") {
            items.push(self.comparison_unit()?);
        }
        Ok(join(items, Comparison::And))
    }

    fn comparison_unit(&mut self) -> Result<Comparison, Error> {
        self.enter()?;
        let comparison = if self.at(&TokenKind::LParen) {
            self.token_idx += 1;
            let inner = self.comparison_or()?;
            self.expect(TokenKind::RParen)?;
            inner
        } else if self.eat_word("EXISTS") {
            Comparison::Test(Test::Exists(self.object_path()?))
        } else {
            let path = self.object_path()?;
            let negated = self.eat_word("NOT");
            let operator = self.operator()?;
            let literal = self.literal_for(operator)?;
            Comparison::Test(Test::Compare {
                path,
                negated,
                operator,
                literal,
            })
        };
        self.leave();
        Ok(comparison)
    }

    fn operator(&mut self) -> Result<Operator, Error> {
        let operator = match self.peek().map(|t| &t.kind) {
            Some(TokenKind::Op(op)) => *op,
            Some(TokenKind::Word(w)) => match w.as_str() {
                "IN" => Operator::In,
                "LIKE" => Operator::Like,
                "MATCHES" => Operator::Matches,
                "ISSUBSET" => Operator::IsSubset,
                "ISSUPERSET" => Operator::IsSuperset,
                _ => return Err(self.unexpected("a comparison operator")),
            },
            _ => return Err(self.unexpected("a comparison operator")),
        };
        self.token_idx += 1;
        Ok(operator)
    }

    fn literal_for(&mut self, operator: Operator) -> Result<Literal, Error> {
        let offset = self.offset();
        if operator == Operator::In {
            return self.set_literal();
        }
        let literal = self.scalar_literal()?;
        let fits = match operator {
            Operator::Eq | Operator::Ne => true,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
                !matches!(literal, Literal::Bool(_))
            }
            Operator::Like | Operator::Matches | Operator::IsSubset | Operator::IsSuperset => {
                matches!(literal, Literal::Str(_))
            }
            Operator::In => unreachable!("handled above"),
        };
        if !fits {
            return Err(pattern_error(
                offset,
                format!("{} cannot take this literal", operator.as_str()),
            ));
        }
        Ok(literal)
    }

    fn set_literal(&mut self) -> Result<Literal, Error> {
        self.expect(TokenKind::LParen)?;
        let mut items = vec![self.scalar_literal()?];
        while self.at(&TokenKind::Comma) {
            self.token_idx += 1;
            items.push(self.scalar_literal()?);
        }
        self.expect(TokenKind::RParen)?;
        Ok(Literal::Set(items))
    }

    fn scalar_literal(&mut self) -> Result<Literal, Error> {
        let offset = self.offset();
        let literal = match self.next().map(|t| t.kind) {
            Some(TokenKind::Int(i)) => Literal::Int(i),
            Some(TokenKind::Float(x)) => Literal::Float(Number(x)),
            Some(TokenKind::Str(s)) => Literal::Str(s),
            Some(TokenKind::Word(w)) if w == "true" => Literal::Bool(true),
            Some(TokenKind::Word(w)) if w == "false" => Literal::Bool(false),
            Some(TokenKind::Timestamp(t)) => {
                check_pattern_timestamp(&t, offset)?;
                Literal::Timestamp(t)
            }
            Some(TokenKind::Hex(h)) => {
                if h.len() % 2 != 0 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(pattern_error(
                        offset,
                        "hex literal needs pairs of hex digits",
                    ));
                }
                Literal::Hex(h)
            }
            Some(TokenKind::Binary(b)) => {
                let base64 = b.len() % 4 == 0
                    && b.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=');
                if !base64 {
                    return Err(pattern_error(offset, "binary literal must be base64"));
                }
                Literal::Binary(b)
            }
            _ => {
                self.token_idx = self.token_idx.saturating_sub(1);
                return Err(self.unexpected("a literal"));
            }
        };
        Ok(literal)
    }

    fn object_path(&mut self) -> Result<ObjectPath, Error> {
        let offset = self.offset();
        let object_type = match self.next().map(|t| t.kind) {
            Some(TokenKind::Word(w)) if is_object_type(&w) => w,
            _ => {
                return Err(pattern_error(
                    offset,
                    "expected an object type such as ipv4-addr",
                ))
            }
        };
        self.expect(TokenKind::Colon)?;
        let mut steps = vec![self.property_step()?];
        loop {
            if self.at(&TokenKind::Dot) {
                self.token_idx += 1;
                steps.push(self.property_step()?);
            } else if self.at(&TokenKind::LBracket) {
                self.token_idx += 1;
                let offset = self.offset();
                let step = match self.next().map(|t| t.kind) {
                    Some(TokenKind::Star) => PathStep::AnyIndex,
                    Some(TokenKind::Int(i)) if i >= 0 => PathStep::Index(i),
                    _ => return Err(pattern_error(offset, "expected a list index or *")),
                };
                self.expect(TokenKind::RBracket)?;
                steps.push(step);
            } else {
                break;
            }
        }
        Ok(ObjectPath { object_type, steps })
    }

    fn property_step(&mut self) -> Result<PathStep, Error> {
        let offset = self.offset();
        match self.next().map(|t| t.kind) {
            Some(TokenKind::Word(w)) if !w.contains('-') => Ok(PathStep::Property(w)),
            Some(TokenKind::Str(s)) => Ok(PathStep::Property(s)),
            _ => Err(pattern_error(offset, "expected a property name")),
        }
    }
}

fn join<T>(mut items: Vec<T>, make: fn(Vec<T>) -> T) -> T {
    debug_assert!(!items.is_empty());
    if items.len() == 1 {
        items.pop().expect("one item")
    } else {
        make(items)
    }
}

fn is_object_type(word: &str) -> bool {
    word.len() >= 3
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !word.starts_with('-')
        && !word.ends_with('-')
}

fn check_pattern_timestamp(text: &str, offset: usize) -> Result<(), Error> {
    if crate::validate::is_stix_timestamp(text) {
        Ok(())
    } else {
        Err(pattern_error(
            offset,
            "timestamp must be RFC 3339 in UTC, e.g. t'2024-01-01T00:00:00Z'",
        ))
    }
}

/// All tests joined by AND inside one observation must name the same type.
fn check_same_type(comparison: &Comparison, offset: usize) -> Result<(), Error> {
    match comparison {
        Comparison::Test(_) => Ok(()),
        Comparison::Or(items) => items.iter().try_for_each(|c| check_same_type(c, offset)),
        Comparison::And(items) => {
            let mut types = Vec::new();
            for item in items {
                check_same_type(item, offset)?;
                collect_types(item, &mut types);
            }
            types.sort_unstable();
            types.dedup();
            if types.len() > 1 {
                return Err(pattern_error(
                    offset,
                    format!(
                        "comparisons joined by AND name different object types: {}",
                        types.join(", ")
                    ),
                ));
            }
            Ok(())
        }
    }
}

fn collect_types<'a>(comparison: &'a Comparison, types: &mut Vec<&'a str>) {
    match comparison {
        Comparison::Test(Test::Exists(path)) | Comparison::Test(Test::Compare { path, .. }) => {
            types.push(&path.object_type)
        }
        Comparison::And(items) | Comparison::Or(items) => {
            items.iter().for_each(|c| collect_types(c, types))
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.observation.fmt(f)
    }
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = |f: &mut fmt::Formatter<'_>, items: &[Observation], word: &str| {
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    write!(f, " {word} ")?;
                }
                match item {
                    Observation::Comparison(_) | Observation::Qualified(..) => write!(f, "{item}")?,
                    _ => write!(f, "({item})")?,
                }
            }
            Ok(())
        };
        match self {
            Observation::Comparison(c) => write!(f, "[{c}]"),
            Observation::And(items) => joined(f, items, "AND"),
            Observation::Or(items) => joined(f, items, "OR"),
            Observation::FollowedBy(items) => joined(f, items, "FOLLOWEDBY"),
            Observation::Qualified(inner, qualifier) => match inner.as_ref() {
                Observation::Comparison(_) | Observation::Qualified(..) => {
                    write!(f, "{inner} {qualifier}")
                }
                _ => write!(f, "({inner}) {qualifier}"),
            },
        }
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within(n) => write!(f, "WITHIN {} SECONDS", n.0),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop(a, b) => write!(f, "START t'{a}' STOP t'{b}'"),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = |f: &mut fmt::Formatter<'_>, items: &[Comparison], word: &str| {
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    write!(f, " {word} ")?;
                }
                match item {
                    Comparison::Test(_) => write!(f, "{item}")?,
                    _ => write!(f, "({item})")?,
                }
            }
            Ok(())
        };
        match self {
            Comparison::Test(test) => test.fmt(f),
            Comparison::And(items) => joined(f, items, "AND"),
            Comparison::Or(items) => joined(f, items, "OR"),
        }
    }
}

impl fmt::Display for Test {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Test::Exists(path) => write!(f, "EXISTS {path}"),
            Test::Compare {
                path,
                negated,
                operator,
                literal,
            } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{path} {not}{} {literal}", operator.as_str())
            }
        }
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.object_type)?;
        for (idx, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Property(name) => {
                    f.write_str(if idx == 0 { ":" } else { "." })?;
                    let plain = name
                        .bytes()
                        .next()
                        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if plain && !is_keyword(name) {
                        f.write_str(name)?;
                    } else {
                        write_quoted(f, name)?;
                    }
                }
                PathStep::Index(i) => write!(f, "[{i}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
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
            | "ISSUBSET"
            | "ISSUPERSET"
            | "EXISTS"
            | "IN"
            | "WITHIN"
            | "SECONDS"
            | "REPEATS"
            | "TIMES"
            | "START"
            | "STOP"
            | "true"
            | "false"
    )
}

fn write_quoted(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    f.write_str("'")?;
    for ch in text.chars() {
        match ch {
            '\'' => f.write_str("\\'")?,
            '\\' => f.write_str("\\\\")?,
            _ => write!(f, "{ch}")?,
        }
    }
    f.write_str("'")
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(n) => f.write_str(&n.0),
            Literal::Str(s) => write_quoted(f, s),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "t'{t}'"),
            Literal::Hex(h) => write!(f, "h'{h}'"),
            Literal::Binary(b) => write!(f, "b'{b}'"),
            Literal::Set(items) => {
                f.write_str("(")?;
                for (idx, item) in items.iter().enumerate() {
                    if idx > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str(")")
            }
        }
    }
}

#[cfg(test)]
mod tests;
