//! Writes whose results nobody reads (the feed row, the audit row, a transition, a remembered
//! key), sent together, optionally ahead of one statement whose row is read: on PostgreSQL as one statement of data-modifying CTEs, which run all,
//! to completion, in one round trip (issue 15: a mutation's statements). SQLite has no
//! data-modifying CTEs; there they run one after another, in the order given.

use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Values};

use crate::error::AppResult;

/// Independent writes of one transaction, collected to be sent together.
#[derive(Default)]
pub struct Writes {
    statements: Vec<Statement>,
}

impl Writes {
    pub fn new() -> Self {
        Self::default()
    }

    /// A write built for the connection's backend (`QueryTrait::build`, `StatementBuilder`).
    /// Writes must not depend on each other: on PostgreSQL they see the same snapshot.
    pub fn push(&mut self, statement: Statement) {
        self.statements.push(statement);
    }

    /// The writes, then `main` (an INSERT … RETURNING, say), whose row is returned.
    pub async fn run_returning(
        mut self,
        db: &impl ConnectionTrait,
        main: Statement,
    ) -> AppResult<Option<QueryResult>> {
        if db.get_database_backend() == DbBackend::Postgres {
            self.statements.push(main);
            return Ok(db.query_one_raw(combined(self.statements)).await?);
        }
        self.run(db).await?;
        Ok(db.query_one_raw(main).await?)
    }

    pub async fn run(self, db: &impl ConnectionTrait) -> AppResult<()> {
        if db.get_database_backend() == DbBackend::Postgres && self.statements.len() > 1 {
            db.execute_raw(combined(self.statements)).await?;
        } else {
            for statement in self.statements {
                db.execute_raw(statement).await?;
            }
        }
        Ok(())
    }
}

/// `WITH w0 AS (first), w1 AS (second) last`, the placeholders of each renumbered after those
/// of the ones before it.
fn combined(mut statements: Vec<Statement>) -> Statement {
    if statements.len() == 1
        && let Some(only) = statements.pop()
    {
        return only;
    }
    let count = statements.len();
    let mut sql = String::from("WITH ");
    let mut values = Vec::new();
    for (index, statement) in statements.into_iter().enumerate() {
        let text = renumbered(&statement.sql, values.len());
        if let Some(Values(own)) = statement.values {
            values.extend(own);
        }
        if index + 1 < count {
            if index > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("w{index} AS ({text})"));
        } else {
            sql.push(' ');
            sql.push_str(&text);
        }
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// `sql` with each PostgreSQL placeholder `$n` moved on by `offset`; text in quotes (string
/// literals, quoted identifiers) is left as it is.
fn renumbered(sql: &str, offset: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                let n: usize = digits.parse().unwrap_or(0);
                out.push_str(&format!("${}", n + offset));
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_move_on_and_quoted_text_stays() {
        assert_eq!(
            renumbered(r#"INSERT INTO "a$1" ("x") VALUES ($1, '$2', $10)"#, 3),
            r#"INSERT INTO "a$1" ("x") VALUES ($4, '$2', $13)"#
        );
    }

    #[test]
    fn the_last_write_is_the_main_statement() {
        let write = |sql: &str, v: i64| {
            Statement::from_sql_and_values(DbBackend::Postgres, sql, [v.into()])
        };
        let one = combined(vec![
            write("INSERT INTO a VALUES ($1)", 1),
            write("INSERT INTO b VALUES ($1)", 2),
            write("INSERT INTO c VALUES ($1)", 3),
        ]);
        assert_eq!(
            one.sql,
            "WITH w0 AS (INSERT INTO a VALUES ($1)), w1 AS (INSERT INTO b VALUES ($2)) \
             INSERT INTO c VALUES ($3)"
        );
        assert_eq!(one.values.map(|v| v.0.len()), Some(3));
    }
}
