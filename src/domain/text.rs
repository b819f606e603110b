//! Text that people write and read: Markdown from local members rendered to
//! HTML, and HTML from anywhere sanitised to the set Mastodon allows, so what
//! we store is always safe to embed in a page.

use ammonia::Builder;
use pulldown_cmark::{Options, Parser, html};
use std::{collections::HashSet, sync::LazyLock};

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = Builder::empty();
    b.add_tags([
        "p",
        "br",
        "span",
        "a",
        "del",
        "s",
        "pre",
        "code",
        "em",
        "strong",
        "b",
        "i",
        "u",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "sup",
        "sub",
    ])
    .add_tag_attributes("a", ["href", "title"])
    .add_tag_attributes("ol", ["start", "reversed"])
    .add_tag_attributes("li", ["value"])
    .add_allowed_classes(
        "span",
        ["h-card", "mention", "hashtag", "ellipsis", "invisible"],
    )
    .add_allowed_classes(
        "a",
        ["h-card", "mention", "hashtag", "u-url", "status-link"],
    )
    .url_schemes(HashSet::from(["http", "https", "mailto", "xmpp", "matrix"]))
    .link_rel(Some("nofollow noopener noreferrer"))
    .set_tag_attribute_value("a", "target", "_blank");
    b
});

/// Sanitise HTML from a remote server or from our own Markdown renderer.
pub fn sanitize_html(input: &str) -> String {
    SANITIZER.clean(input).to_string()
}

/// Render a member's Markdown to safe HTML. Raw HTML in the source is escaped by
/// the sanitiser, not interpreted.
pub fn markdown_to_html(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let parser = Parser::new_ext(source, options).map(|event| match event {
        // Raw HTML from a member is shown as text, never as markup.
        pulldown_cmark::Event::Html(h) | pulldown_cmark::Event::InlineHtml(h) => {
            pulldown_cmark::Event::Text(h)
        }
        // Single newlines are line breaks in chat-like posts.
        pulldown_cmark::Event::SoftBreak => pulldown_cmark::Event::HardBreak,
        e => e,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    sanitize_html(&out)
}

/// A piece of post text turned into a link.
enum Token<'a> {
    Url(&'a str),
    Mention(&'a str, Option<&'a str>),
    Hashtag(&'a str),
}

// A constant pattern: it compiles (a test proves it), so `ok()` never loses anything.
static TOKENS: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(
        r"https?://[^\s<>\x22']+|@[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*(?::[0-9]{1,5})?)?|#[\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*",
    )
    .ok()
});

/// Find URLs, @mentions and #hashtags in plain text, with their byte ranges.
fn tokens(text: &str) -> Vec<(std::ops::Range<usize>, Token<'_>)> {
    let mut out = Vec::new();
    let Some(re) = TOKENS.as_ref() else {
        return out;
    };
    for m in re.find_iter(text) {
        let before = text[..m.start()].chars().next_back();
        // "a@b" inside a word or an e-mail address is not a mention.
        if before
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '/' || c == '@' || c == '#')
        {
            continue;
        }
        let s = m.as_str();
        if s.starts_with("http") {
            let trimmed = s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'', '"']);
            out.push((m.start()..m.start() + trimmed.len(), Token::Url(trimmed)));
        } else if let Some(rest) = s.strip_prefix('@') {
            let (user, host) = match rest.split_once('@') {
                Some((u, h)) => (u, Some(h)),
                None => (rest, None),
            };
            out.push((m.range(), Token::Mention(user, host)));
        } else if let Some(tag) = s.strip_prefix('#') {
            out.push((m.range(), Token::Hashtag(tag)));
        }
    }
    out
}

/// Handles mentioned in a text: (username, host if given).
pub fn mentioned_handles(text: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for (_, t) in tokens(text) {
        if let Token::Mention(u, h) = t {
            let item = (u.to_string(), h.map(|h| h.to_lowercase()));
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    out
}

/// A mentioned account, as the renderer needs it.
pub struct MentionTarget<'a> {
    pub username: &'a str,
    /// host[:port]
    pub domain: &'a str,
    pub local: bool,
    pub url: &'a str,
}

/// A post rendered for storage: safe HTML, and the hashtags it uses.
pub struct RenderedPost {
    pub html: String,
    pub hashtags: Vec<String>,
}

/// Text made safe inside HTML or XML, attribute values included.
pub fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Render a member's post: Markdown, then links for URLs, @mentions (of the
/// given, already resolved accounts) and #hashtags, as Mastodon marks them up.
pub fn render_post(source: &str, base_url: &str, mentions: &[MentionTarget<'_>]) -> RenderedPost {
    let mut hashtags: Vec<String> = Vec::new();
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    let mut in_code = 0usize;
    let mut in_link = 0usize;
    let mut events = Vec::new();
    for event in Parser::new_ext(source, options) {
        use pulldown_cmark::{Event, Tag, TagEnd};
        match event {
            Event::Start(Tag::CodeBlock(_)) => {
                in_code += 1;
                events.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code = in_code.saturating_sub(1);
                events.push(event);
            }
            Event::Start(Tag::Link { .. }) => {
                in_link += 1;
                events.push(event);
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                events.push(event);
            }
            Event::Html(h) | Event::InlineHtml(h) => events.push(Event::Text(h)),
            Event::SoftBreak => events.push(Event::HardBreak),
            Event::Text(text) if in_code == 0 && in_link == 0 => {
                let mut html = String::new();
                let mut pos = 0;
                for (range, token) in tokens(&text) {
                    html.push_str(&escape_html(&text[pos..range.start]));
                    let original = &text[range.clone()];
                    match token {
                        Token::Url(u) => {
                            html.push_str(&format!(r#"<a href="{0}">{0}</a>"#, escape_html(u)));
                        }
                        Token::Mention(user, host) => {
                            let target = mentions.iter().find(|m| {
                                m.username.eq_ignore_ascii_case(user)
                                    && match host {
                                        Some(h) => m.domain.eq_ignore_ascii_case(h),
                                        None => m.local,
                                    }
                            });
                            match target {
                                Some(t) => html.push_str(&format!(
                                    r#"<span class="h-card"><a href="{}" class="u-url mention">@<span>{}</span></a></span>"#,
                                    escape_html(t.url),
                                    escape_html(t.username)
                                )),
                                None => html.push_str(&escape_html(original)),
                            }
                        }
                        Token::Hashtag(tag) => {
                            let lower = tag.to_lowercase();
                            if !hashtags.contains(&lower) {
                                hashtags.push(lower.clone());
                            }
                            html.push_str(&format!(
                                r#"<a href="{}/tags/{}" class="mention hashtag" rel="tag">#<span>{}</span></a>"#,
                                base_url,
                                escape_html(&percent_encoding::utf8_percent_encode(&lower, percent_encoding::NON_ALPHANUMERIC).to_string()),
                                escape_html(tag)
                            ));
                        }
                    }
                    pos = range.end;
                }
                html.push_str(&escape_html(&text[pos..]));
                events.push(Event::Html(html.into()));
            }
            other => events.push(other),
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    RenderedPost {
        html: sanitize_html(&out),
        hashtags,
    }
}

/// Hashtags in plain text (for remote posts that lack Hashtag tags).
pub fn hashtags_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, t) in tokens(text) {
        if let Token::Hashtag(h) = t {
            let h = h.to_lowercase();
            if !out.contains(&h) {
                out.push(h);
            }
        }
    }
    out
}

/// Plain text of an HTML fragment (for search, summaries and previews).
pub fn html_to_text(input: &str) -> String {
    let with_breaks = input
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n\n");
    let stripped = Builder::empty().clean(&with_breaks).to_string();
    let text = stripped
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    text.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_html_escaped() {
        let out = markdown_to_html("Hello **world**\n<script>alert(1)</script>");
        assert!(out.contains("<strong>world</strong>"), "{out}");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }

    #[test]
    fn dangerous_remote_html_is_removed() {
        let out = sanitize_html(
            r#"<p onclick="x()">Hi <a href="javascript:alert(1)">x</a><img src=x onerror=y><a href="https://ok.example/" class="mention evil">@a</a></p>"#,
        );
        assert!(
            !out.contains("onclick") && !out.contains("javascript") && !out.contains("<img"),
            "{out}"
        );
        assert!(out.contains(r#"class="mention""#), "{out}");
        assert!(out.contains("noopener"), "{out}");
    }

    #[test]
    fn posts_link_mentions_tags_and_urls() {
        let alice = MentionTarget {
            username: "alice",
            domain: "a.example",
            local: true,
            url: "https://a.example/@alice",
        };
        let bob = MentionTarget {
            username: "bob",
            domain: "b.example:8080",
            local: false,
            url: "https://b.example:8080/@bob",
        };
        let r = render_post(
            "Hi @alice and @bob@b.example:8080, see https://x.example/a?b=1. #Maths #maths #2024 `#code` me@mail.example @ghost",
            "https://a.example",
            &[alice, bob],
        );
        assert!(
            r.html
                .contains(r#"href="https://a.example/@alice" class="u-url mention""#),
            "{}",
            r.html
        );
        assert!(
            r.html.contains(r#"href="https://b.example:8080/@bob""#),
            "{}",
            r.html
        );
        assert!(
            r.html.contains(r#"<a href="https://x.example/a?b=1""#),
            "{}",
            r.html
        );
        assert!(r.html.contains("tags/maths"), "{}", r.html);
        assert_eq!(r.hashtags, vec!["maths"]);
        assert!(
            !r.html.contains("tags/2024") && !r.html.contains("tags/code"),
            "{}",
            r.html
        );
        assert!(
            r.html.contains("me@mail.example") && r.html.contains("@ghost"),
            "{}",
            r.html
        );
        assert_eq!(
            mentioned_handles("@alice @bob@B.example:8080 @alice x@y"),
            vec![
                ("alice".to_string(), None),
                ("bob".to_string(), Some("b.example:8080".to_string()))
            ]
        );
    }

    #[test]
    fn text_extraction() {
        assert_eq!(
            html_to_text("<p>a &amp; b</p><p>c<br>d</p>"),
            "a & b\n\nc\nd"
        );
    }
}
