//! The contract's comments, from the descriptor set's source info, as OpenAPI descriptions.

use prost_reflect::FileDescriptor;

/// The leading comment of the element at `path` in `file`, trimmed; `None` without source info.
pub(crate) fn description(file: &FileDescriptor, path: &[i32]) -> Option<String> {
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info
        .location
        .iter()
        .find(|location| location.path == path)?;
    let text = location.leading_comments.as_deref()?;
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let joined = lines.join("\n").trim().to_owned();
    (!joined.is_empty()).then_some(joined)
}

/// The first sentence of a description, on one line, for an operation's summary.
pub(crate) fn summary(description: &str) -> String {
    let flat = description.split_whitespace().collect::<Vec<_>>().join(" ");
    let sentence = flat
        .split_once(". ")
        .map_or(flat.as_str(), |(sentence, _)| sentence);
    sentence.trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_the_first_sentence() {
        assert_eq!(summary("Gets a quote. Fast.\nMore."), "Gets a quote");
        assert_eq!(
            summary("Lists bars\nacross lines. Then more"),
            "Lists bars across lines"
        );
    }
}
