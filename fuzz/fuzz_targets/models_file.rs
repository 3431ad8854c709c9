//! Any text as the user's models file (`CHAT_MODELS`), through the catalog's reader and
//! its checks: a catalog whose default model exists, or one line that says what is wrong,
//! never a panic.
#![no_main]

use chat::catalog::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Catalog::with_overlay(Some(text)) {
        Ok(catalog) => {
            let (provider, model) = catalog.default_model();
            assert!(catalog.check(&provider, &model).is_ok(), "{provider}/{model}");
        }
        Err(error) => assert!(!error.to_string().contains('\n'), "{error}"),
    }
});
