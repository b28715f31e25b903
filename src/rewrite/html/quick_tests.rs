//! The direct reading must record exactly what lol_html's handlers record,
//! whenever it does not give up.

use proptest::prelude::*;

use super::super::compare_readings as agrees;

#[test]
fn reads_real_mail_html_as_lol_html_does() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests");
    let mut files = Vec::new();
    for dir in ["golden", "corpus/autoreply", "corpus/not-autoreply"] {
        for entry in std::fs::read_dir(format!("{root}/{dir}")).expect("test folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "eml") {
                files.push(path);
            }
        }
    }
    let (mut seen, mut accepted) = (0, 0);
    for path in files {
        let raw = std::fs::read(&path).expect("message");
        let Some(message) = mail_parser::MessageParser::default().parse(&raw) else { continue };
        for part in &message.parts {
            if let mail_parser::PartType::Html(html) = &part.body {
                seen += 1;
                match agrees(html) {
                    Ok(true) => accepted += 1,
                    Ok(false) => {}
                    Err(diff) => panic!("{}: {diff}", path.display()),
                }
            }
        }
    }
    assert!(seen >= 15, "only {seen} HTML parts in the test messages");
    // Mail clients' HTML is what the quick reading is for.
    assert!(accepted * 10 >= seen * 7, "accepted {accepted} of {seen}");
}

#[test]
fn agrees_on_hand_written_edge_cases() {
    let cases = [
        "<html><body><p>Hallo</p></body></html>",
        "tekst zonder element<br>nog meer",
        "<div>a<p>b</div>c</p>d",
        "<DIV Class=\"x gmail_quote\">quote</DIV><div class=gmail_quote>",
        "<div class=\"Gmail_quote\">not a quote</div>",
        "<div id=divRplyFwdMsg>Van: Ann</div><div ID=\"appendonsend\"></div>",
        "<div class=\"x\" class=\"gmail_quote\">first class wins</div>",
        "<blockquote type=cite>old</blockquote>",
        "<p>a<o:p></o:p></p><P>b</P ><O:P>c</o:p>",
        "<style>p {color:red} </styles> <b> </style >after",
        "<html><style/>x</style><p>y",
        "<head><STYLE type=text/css><!-- p {} --></STYLE></head><body>z</body>",
        "<!DOCTYPE html><html><!-- c --><body>t<!--[if mso]><xml></xml><![endif]-->u</body></html>",
        "<body><![if !supportLists]>1.<![endif]>Item<?xml version=\"1.0\"?></body>",
        "<div a=1 b='2 > 3' c=\"4\" d e = f/ g/>x</div  x=y>",
        "<div =x>y</div><br/></br><hr/>",
        "<html><head><style a=>x<body>y</style>",
        "<style type=text/css a= >x<body>y</style>",
        "<div a=>x<p>y</div>",
        "<p>x</p></p></div></body>tail",
        "<body><p>één &nbsp;&#8217; caf\u{e9}</p>\r\n</body>\r\n</html>\r\n",
        "<table><tr><td>a</td><td>b</tr></table>",
        "<div>a < b</div>",
        "<div>open",
        "<div class=\"unterminated>",
        "<!-->x",
        "<!-- a --!> b -->",
        "<!-- <!-- --> x",
        "<script>var a = '<p>';</script><p>x</p>",
        "<title>t</title><p>x</p>",
        "<svg><p>x</p></svg>",
        "<select><style></select>",
        "</ p>x",
        "</>x<p>y",
        "x\0y<p>z",
        "<p><![CDATA[a>b]]></p>",
        "<!doctype html public \"-//W3C//DTD>x\" ><body>y</body>",
        "<esi:include src=x><p>a</p></esi:include>",
        "<div\r\nclass=\"gmail_quote\"\x0c>q</div\t>",
        "<div class=\"a\ngmail_quote\">q</div>",
        "<image src=x><p>a</image>b",
    ];
    let mut accepted = 0;
    for html in cases {
        match agrees(html) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(diff) => panic!("{diff}"),
        }
    }
    assert!(accepted >= 18, "accepted only {accepted}");
}

/// Pieces the quick reading models; any sequence of them must be accepted.
const MODELLED: &[&str] = &[
    "<html>",
    "</html>",
    "<head>",
    "</head>",
    "<body lang=NL>",
    "<body>",
    "</body>",
    "<div>",
    "</div>",
    "<DIV CLASS=\"gmail_quote\">",
    "<div class='a gmail_quote'>",
    "<div id=divRplyFwdMsg>",
    "<div class=\"x\" class=\"gmail_quote\">",
    "<div Class=gmail_quote/>",
    "<blockquote type=\"cite\">",
    "</blockquote>",
    "<p>",
    "</p>",
    "<p class=MsoNormal>",
    "<P>",
    "</P >",
    "<o:p>",
    "</o:p>",
    "<O:P>",
    "<span style=\"a>b\">",
    "</span>",
    "<b>",
    "</b>",
    "<br>",
    "<br/>",
    "</br>",
    "<hr>",
    "<img src=x alt='a > b'>",
    "<meta charset=utf-8>",
    "<table>",
    "<tr>",
    "<td>",
    "</td>",
    "</tr>",
    "</table>",
    "<li>",
    "<ul>",
    "</ul>",
    "<style>p {color:red}</style>",
    "<style>a</styles></style >",
    "<STYLE type=text/css><!-- x --></STYLE>",
    "</style>",
    "<!-- comment -->",
    "<!--[if mso]><xml></xml><![endif]-->",
    "<![if !supportLists]>",
    "<![endif]>",
    "<!DOCTYPE html>",
    "<?xml version=\"1.0\"?>",
    "tekst",
    "Met vriendelijke groet,",
    " ",
    "\r\n",
    "&nbsp;",
    "caf\u{e9}",
    "&#8217;",
    "a=b",
    "x > y",
    "<div a = 1 >",
    "<div =x>",
    "<div/ >",
    "<h1>",
    "</h1>",
    "<pre>",
    "</pre>",
    "<xml>",
    "</xml>",
    "<center>",
    "<font color=red>",
    "</font>",
    "<x-y.z_1>",
    "</x-y.z_1>",
];

/// Pieces it gives up on, or that change how the rest must be read.
const OTHERS: &[&str] = &[
    "<",
    "</",
    "<>",
    "</>",
    "< p>",
    "<script>x</script>",
    "<title>t</title>",
    "<svg><p>x</svg>",
    "<math>",
    "<select><option>a</select>",
    "<template>t</template>",
    "<textarea>a</textarea>",
    "<noscript>n</noscript>",
    "<!-->",
    "<!--->",
    "<!-- a --!> b -->",
    "<!-- <!-- -->",
    "<div",
    "<a href=\"x",
    "<!--",
    "<!x",
    "<?",
    "\0",
    "<div\u{e9}>",
    "<plaintext>",
    "<style>",
    "<esi:include src=x>",
    "</esi:include>",
    "<ESI:comment text=x/>",
];

fn document(pieces: Vec<&str>) -> String {
    pieces.concat()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn modelled_documents_are_read_as_lol_html_reads_them(
        pieces in prop::collection::vec(prop::sample::select(MODELLED), 0..60)
    ) {
        let html = document(pieces);
        match agrees(&html) {
            Ok(accepted) => prop_assert!(accepted, "gave up on {html:?}"),
            Err(diff) => prop_assert!(false, "{}", diff),
        }
    }

    #[test]
    fn any_document_is_read_as_lol_html_reads_it_or_left_to_it(
        pieces in prop::collection::vec(
            prop_oneof![3 => prop::sample::select(MODELLED), 1 => prop::sample::select(OTHERS)],
            0..60,
        )
    ) {
        let html = document(pieces);
        if let Err(diff) = agrees(&html) {
            prop_assert!(false, "{}", diff);
        }
    }
}
