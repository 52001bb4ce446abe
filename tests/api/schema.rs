//! The published SDL must match the code.

#[test]
fn published_sdl_matches_the_code() {
    let published = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .expect("schema/schema.graphql exists");
    let generated = permit_exchange::graphql::sdl();
    assert!(
        published == generated,
        "schema/schema.graphql is out of date: run `cargo run -q -- schema > schema/schema.graphql`"
    );
}
