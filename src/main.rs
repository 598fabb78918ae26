//! The `cvmbot` binary: everything lives in the library; see `cvmbot --help`.

fn main() -> std::process::ExitCode {
    cvmbot::cli::main()
}
