//! Markdown reduced to the text a person reads, for the places that show a message as
//! one plain line: a chat's automatic title and a search result's snippet. Without it
//! they show `**`, backticks and link targets as typed.

/// One line of Markdown as read: without a quote's `>`, a heading's `#`, a list item's
/// marker, the emphasis marks `**` and `__`, backticks, and with `[text](target)` (and
/// `![text](target)`) as `text`. A lone `*` or `#` that marks nothing stays (`2*3`,
/// `#1 priority`).
pub fn line(text: &str) -> String {
    let mut l = text.trim();
    while let Some(quoted) = l.strip_prefix('>') {
        l = quoted.trim_start();
    }
    let hashes = l.len() - l.trim_start_matches('#').len();
    if (1..=6).contains(&hashes) && l.get(hashes..).is_some_and(|r| r.starts_with(' ')) {
        l = l.get(hashes..).unwrap_or(l).trim_start();
    }
    let l = ["- ", "* ", "+ "]
        .iter()
        .find_map(|marker| l.strip_prefix(marker))
        .unwrap_or(l);
    links_as_text(l)
        .replace("**", "")
        .replace("__", "")
        .replace('`', "")
        .trim()
        .to_string()
}

/// Whether a line opens or closes a code block (its text is kept, the fence is not).
pub fn is_fence(line: &str) -> bool {
    let l = line.trim_start();
    l.starts_with("```") || l.starts_with("~~~")
}

/// The whole text as one readable line: each line through [`line`], fences left out.
pub fn text(markdown: &str) -> String {
    markdown
        .lines()
        .filter(|l| !is_fence(l))
        .map(line)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `[text](target)` as `text`; anything else as it is.
fn links_as_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        let before = rest.get(..open).unwrap_or_default();
        let inside = rest.get(open + 1..).unwrap_or_default();
        let link = inside.find("](").and_then(|close| {
            let label = inside.get(..close)?;
            let after = inside.get(close + 2..)?;
            let end = after.find(')')?;
            let target = after.get(..end)?;
            let plausible = !label.contains('[') && !target.contains(char::is_whitespace);
            plausible.then(|| (label, after.get(end + 1..).unwrap_or_default()))
        });
        match link {
            Some((label, after)) => {
                out.push_str(before.strip_suffix('!').unwrap_or(before));
                out.push_str(label);
                rest = after;
            }
            None => {
                out.push_str(before);
                out.push('[');
                rest = inside;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_go_and_the_words_stay() {
        assert_eq!(line("## A **bold** `step`"), "A bold step");
        assert_eq!(line("> > - quoted __item__"), "quoted item");
        assert_eq!(
            line("see [the docs](https://example.com/a_b) and ![a cat](cat.png)."),
            "see the docs and a cat."
        );
        assert_eq!(
            line("#1 priority: 2*3 [not a link] (x)"),
            "#1 priority: 2*3 [not a link] (x)"
        );
        assert_eq!(line("[a] [b](c d) [e](f)"), "[a] [b](c d) e");
        assert_eq!(line("unclosed [link](x"), "unclosed [link](x");
        assert_eq!(line("é[ü](ö)ß"), "éüß");
    }

    #[test]
    fn a_text_is_one_line_without_its_fences() {
        let text_ = "Here is **an answer**:\n\n1. First\n```python\nprint(1)\n```\n> A quote.";
        assert_eq!(text(text_), "Here is an answer: 1. First print(1) A quote.");
    }
}
