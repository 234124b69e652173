//! Compiles the contract in `proto/` with protox (pure Rust, no system `protoc`), writes the
//! encoded file-descriptor set for gRPC reflection, and generates prost messages and tonic
//! clients and servers from it.

use std::path::PathBuf;

const FILES: &[&str] = &[
    "bourse/common/v1/common.proto",
    "bourse/market_data/v1/market_data.proto",
    "bourse/portfolio/v1/portfolio.proto",
    "bourse/risk/v1/risk.proto",
    "bourse/sentiment/v1/sentiment.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_root.display());

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(FILES)?;
    let fds = compiler.file_descriptor_set();

    // Encoded by protox itself: prost-types' `FileDescriptorSet` drops extension options, and the
    // gateway reads the `google.api.http` options from these bytes.
    let encoded = compiler.encode_file_descriptor_set();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("bourse_descriptor.bin"), &encoded)?;

    // Well-known types come from pbjson-types: prost's own have no serde implementations.
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds)?;

    // The canonical proto3 JSON mapping (RFC 3339 timestamps, 64-bit integers as strings) with
    // the proto field names, so REST bodies are snake_case like the contract. Every field is
    // emitted, defaults included, so clients never have to guess what a missing field means.
    pbjson_build::Builder::new()
        .register_descriptors(&encoded)?
        .preserve_proto_field_names()
        .emit_fields()
        .build(&[".bourse", ".google.api"])?;
    Ok(())
}
