//! The signed minutes end to end: vectors, signing rules, tamper detection,
//! batch verification, the bundle file, HTML and PDF.

#[path = "vectors/fixture.rs"]
mod fixture;

use fixture::*;
use kiemtra_core::identity::{verify_strict, DeviceKey, KeyStore};
use kiemtra_core::minutes::*;
use kiemtra_core::people::Role;

fn options() -> RenderOptions {
    RenderOptions::new(VERIFY_URL)
}

fn trusted(f: &Fixture) -> TrustedKeys {
    let mut t = TrustedKeys::new();
    for (i, k) in f.inspectors.iter().zip(&f.keys) {
        t.insert(&i.id.to_string(), k.public_key().unwrap(), &i.name)
            .unwrap();
    }
    t
}

fn document(f: &Fixture, statement: Statement) -> MinutesDocument {
    MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, f.info(statement)).unwrap()
}

/// Member and secretary sign, then the leader seals.
fn sign_all(f: &Fixture, doc: MinutesDocument) -> SignedMinutes {
    let mut s = SignedMinutes::new(doc).unwrap();
    s.sign(f.member(), &f.keys[1]).unwrap();
    s.sign(f.secretary(), &f.keys[2]).unwrap();
    s.sign(f.leader(), &f.keys[0]).unwrap();
    s
}

fn blobs(doc: &MinutesDocument) -> Vec<Blob> {
    let mut b = vec![Blob::new(photo_bytes(1)), Blob::new(photo_bytes(2))];
    if doc.representative_signature.is_some() {
        b.push(Blob::new(drawn_signature()));
    }
    b
}

fn bundle(f: &Fixture, statement: Statement) -> (SignedMinutes, Bundle) {
    let signed = sign_all(f, document(f, statement));
    let b = Bundle::new(&signed, blobs(signed.document()), trusted(f));
    (signed, b)
}

#[test]
fn rfc8032_section_7_1_vectors_through_our_wrapper() {
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];
    for (secret, public, message, signature) in cases {
        let mut sk = [0u8; 32];
        hex::decode_to_slice(secret, &mut sk).unwrap();
        let key = DeviceKey::from_secret_bytes(&sk).unwrap();
        assert_eq!(hex::encode(key.public_key().unwrap()), public);
        let msg = hex::decode(message).unwrap();
        let sig = key.sign(&msg).unwrap();
        assert_eq!(hex::encode(sig), signature);
        assert!(verify_strict(&key.public_key().unwrap(), &msg, &sig).is_ok());
    }
}

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Vector {
    description: String,
    canonical_hex: String,
    content_hash: String,
    signing_message_hex: String,
    /// Signer role → signature hex, with the fixed keys `[n; 32]` (n = 1 leader, 2 member, 3 secretary).
    signatures: Vec<(String, String)>,
}

#[test]
fn canonical_bytes_are_pinned_by_the_test_vector() {
    let f = fixed();
    let doc = document(&f, statement());
    let bytes = canonical_bytes(&doc).unwrap();
    // Same input, same bytes; the bytes decode to the same document.
    assert_eq!(bytes, canonical_bytes(&document(&f, statement())).unwrap());
    assert_eq!(decode_canonical(&bytes).unwrap(), doc);
    let signed = sign_all(&f, doc);
    let hash = signed.content_hash();
    let got = Vector {
        description:
            "kiemtra minutes document format 1: tests/vectors/fixture.rs `fixed()` with the statement; \
                      content_hash = SHA-256(canonical); message = b\"kiemtra-minutes-v1\\0\" ++ hash"
                .into(),
        canonical_hex: hex::encode(&bytes),
        content_hash: hash.to_hex(),
        signing_message_hex: hex::encode(signing_message(&hash)),
        signatures: signed
            .signatures()
            .iter()
            .map(|s| (format!("{:?}", s.role), hex::encode(s.signature.0)))
            .collect(),
    };
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/minutes-v1.json");
    if std::env::var_os("KIEMTRA_UPDATE_VECTORS").is_some() {
        std::fs::write(path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
    }
    let want: Vector = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(
        got.canonical_hex, want.canonical_hex,
        "the canonical bytes changed: bump DOCUMENT_FORMAT"
    );
    assert_eq!(got, want);
}

#[test]
fn a_non_canonical_encoding_is_refused() {
    let f = fixed();
    let bytes = canonical_bytes(&document(&f, statement())).unwrap();
    // The same integer 3 (copies) in a longer form would be another encoding of the same content.
    let mut longer = bytes.clone();
    let key = b"fcopies\x03";
    let at = longer.windows(key.len()).position(|w| w == key).unwrap() + key.len() - 1;
    longer.splice(at..=at, [0x18, 0x03]);
    assert!(matches!(
        decode_canonical(&longer),
        Err(MinutesError::NotCanonical)
    ));
}

#[test]
fn signing_order_and_rules() {
    let f = fixed();
    let mut s = SignedMinutes::new(document(&f, statement())).unwrap();
    assert!(matches!(
        s.sign(f.leader(), &f.keys[0]),
        Err(MinutesError::MembersUnsigned { count: 2, .. })
    ));
    assert!(matches!(
        s.sign(f.member(), &f.keys[2]),
        Err(MinutesError::KeyMismatch { .. })
    ));
    s.sign(f.member(), &f.keys[1]).unwrap();
    assert!(matches!(
        s.sign(f.member(), &f.keys[1]),
        Err(MinutesError::AlreadySigned { .. })
    ));
    let stranger = kiemtra_core::ids::InspectorId::new();
    assert!(matches!(
        s.sign(stranger, &f.keys[1]),
        Err(MinutesError::NotAMember { .. })
    ));
    s.sign(f.secretary(), &f.keys[2]).unwrap();
    assert!(!s.is_sealed());
    s.sign(f.leader(), &f.keys[0]).unwrap();
    assert!(s.is_sealed());
    assert!(matches!(
        s.sign(f.member(), &f.keys[1]),
        Err(MinutesError::Sealed)
    ));
    // Signatures reassemble from stored parts.
    let again = SignedMinutes::from_parts(s.canonical_bytes().to_vec(), s.signatures().to_vec()).unwrap();
    assert!(again.is_sealed());
}

#[test]
fn an_intact_bundle_verifies_and_says_so() {
    let f = fixed();
    let (_, b) = bundle(&f, statement());
    let r = verify_bundle(&b);
    assert!(r.is_valid(), "{r}");
    assert!(r.is_complete());
    assert_eq!(r.signatures.len(), 3);
    assert!(r
        .signatures
        .iter()
        .all(|s| matches!(s.trust, KeyTrust::Trusted { .. })));
    assert_eq!(r.blobs.len(), 3);
    let text = r.to_string();
    assert!(text.contains("HỢP LỆ / VALID"), "{text}");
    assert!(text.contains("Nguyễn Văn An"));
}

#[test]
fn any_flipped_content_byte_is_a_hash_mismatch() {
    let f = fixed();
    let (_, b) = bundle(&f, statement());
    for at in [0, b.document.0.len() / 2, b.document.0.len() - 1] {
        let mut t = b.clone();
        t.document.0[at] ^= 0x01;
        let r = verify_bundle(&t);
        assert!(!r.hash_matches(), "byte {at}");
        assert!(!r.is_valid());
        // The signatures themselves are fine: it is the content that changed.
        assert!(r.signatures.iter().all(|s| s.valid));
        assert!(r.to_string().contains("content was altered"));
    }
}

#[test]
fn a_flipped_signature_byte_breaks_exactly_that_signature() {
    let f = fixed();
    let (_, b) = bundle(&f, statement());
    for i in 0..b.signatures.len() {
        for at in [0, 31, 32, 63] {
            let mut t = b.clone();
            t.signatures[i].signature.0[at] ^= 0x80;
            let r = verify_bundle(&t);
            assert!(r.hash_matches());
            for (j, s) in r.signatures.iter().enumerate() {
                assert_eq!(s.valid, i != j, "signature {i} byte {at}");
            }
            assert!(!r.is_valid());
            // A broken leader signature also means not sealed.
            assert_eq!(r.sealed, b.signatures[i].role != Role::Leader);
        }
    }
}

#[test]
fn a_swapped_public_key_is_untrusted_and_invalid() {
    let f = fixed();
    let (_, b) = bundle(&f, statement());
    let mut t = b.clone();
    t.signatures[0].public_key = Hash32(f.keys[2].public_key().unwrap());
    let r = verify_bundle(&t);
    assert!(!r.signatures[0].valid);
    assert_eq!(r.signatures[0].trust, KeyTrust::DifferentKey);
    assert!(!r.signatures[0].listed);
    // Keys missing from the trusted set are reported as such.
    let mut u = b.clone();
    u.trusted_keys = TrustedKeys::new();
    let r = verify_bundle(&u);
    assert!(r
        .signatures
        .iter()
        .all(|s| s.valid && s.trust == KeyTrust::UnknownSigner));
    assert!(!r.is_valid());
    assert!(verify_bundle_with(&u, &trusted(&f)).is_valid());
}

#[test]
fn a_flipped_photo_or_drawn_signature_byte_names_that_blob() {
    let f = fixed();
    let (_, b) = bundle(&f, statement());
    for i in 0..b.blobs.len() {
        let mut t = b.clone();
        t.blobs[i].data.0[10] ^= 0x01;
        let r = verify_bundle(&t);
        assert!(r.hash_matches() && r.signatures.iter().all(|s| s.valid));
        assert!(!r.is_valid());
        let bad: Vec<_> = r
            .blobs
            .iter()
            .filter(|x| x.status == BlobStatus::Mismatched)
            .collect();
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].sha256, b.blobs[i].sha256);
        if i == 2 {
            assert_eq!(bad[0].kind, BlobKind::DrawnSignature);
        } else {
            assert!(matches!(bad[0].kind, BlobKind::Photo { .. }));
        }
    }
    // A photo not supplied is missing, not altered: still valid, not complete.
    let mut t = b.clone();
    t.blobs.remove(0);
    let r = verify_bundle(&t);
    assert!(r.is_valid() && !r.is_complete());
    assert_eq!(r.blobs[0].status, BlobStatus::Missing);
    assert!(r.to_string().contains("not supplied"));
}

#[test]
fn the_amendment_chain_cites_the_previous_hash_and_both_verify() {
    let f = fixed();
    let (v1, b1) = bundle(&f, statement());
    let mut info = f.info(statement());
    info.copies = 4;
    info.previous = Some(v1.content_hash());
    let doc2 = MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, info).unwrap();
    let v2 = sign_all(&f, doc2);
    let b2 = Bundle::new(&v2, blobs(v2.document()), trusted(&f));
    let (r1, r2) = (verify_bundle(&b1), verify_bundle(&b2));
    assert!(r1.is_valid() && r2.is_valid());
    assert_ne!(r1.content_hash, r2.content_hash);
    assert_eq!(r2.previous, Some(r1.content_hash));
    assert!(r2.to_string().contains(&v1.content_hash().to_hex()));
    let html = render_html(&v2, &options()).unwrap();
    assert!(html.contains(&v1.content_hash().to_hex()));
}

#[test]
fn batch_verification_finds_the_one_bad_bundle() {
    let f = fixed();
    let (_, good) = bundle(&f, statement());
    let (_, refused) = bundle(&f, refusal());
    let mut bundles = vec![good.clone(), refused, good.clone(), good.clone(), good.clone()];
    let all = verify_batch(&bundles);
    assert!(all.iter().all(VerificationReport::is_valid));
    bundles[3].signatures[1].signature.0[5] ^= 0x04;
    let reports = verify_batch(&bundles);
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.is_valid(), i != 3, "bundle {i}");
        assert_eq!(
            r,
            &verify_bundle(&bundles[i]),
            "batch and single agree on bundle {i}"
        );
    }
    assert!(!reports[3].signatures[1].valid);
    assert!(reports[3].signatures[0].valid && reports[3].signatures[2].valid);
}

#[test]
fn the_bundle_file_round_trips_and_refuses_garbage() {
    let f = fixed();
    let (_, b) = bundle(&f, statement());
    let bytes = b.to_bytes().unwrap();
    assert_eq!(Bundle::from_bytes(&bytes).unwrap(), b);
    assert!(verify_file(&bytes).unwrap().is_valid());
    assert!(matches!(
        Bundle::from_bytes(b"\x00\x01garbage"),
        Err(MinutesError::NotABundle(_))
    ));
    assert!(matches!(
        Bundle::from_bytes(&bytes[..bytes.len() / 2]),
        Err(MinutesError::NotABundle(_))
    ));
    let mut other = b.clone();
    other.format = "kiemtra-minutes-bundle/9".into();
    assert!(matches!(
        Bundle::from_bytes(&other.to_bytes().unwrap()),
        Err(MinutesError::UnsupportedFormat { .. })
    ));
    assert!(verify_file(b"%PDF-1.7\n%%EOF").is_err());
}

#[test]
fn the_html_page_has_the_national_header_and_escapes_text() {
    let f = fixed();
    let (signed, _) = bundle(&f, statement());
    let html = render_html(&signed, &options()).unwrap();
    for needle in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 15/BB-ĐKT",
        "Hải Phòng, ngày 05 tháng 3 năm 2025",
        "BIÊN BẢN KIỂM TRA",
        "SỞ NỘI VỤ THÀNH PHỐ HẢI PHÒNG",
        "I. Thành phần",
        "II. Kết quả kiểm tra",
        "III. Tồn tại, vi phạm",
        "IV. Kiến nghị, yêu cầu",
        "V. Ý kiến của đơn vị được kiểm tra",
        "ĐẠI DIỆN ĐƠN VỊ ĐƯỢC KIỂM TRA",
        "TRƯỞNG ĐOÀN KIỂM TRA",
        "CÁC THÀNH VIÊN ĐOÀN",
        "NGƯỜI LẬP BIÊN BẢN",
        "size: A4",
        "<svg",
        "03 bản",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    assert!(html.contains(&signed.content_hash().to_hex()));
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn a_refusal_is_rendered_with_reason_and_witness_in_html_and_pdf() {
    let f = fixed();
    let (signed, b) = bundle(&f, refusal());
    assert!(verify_bundle(&b).is_valid());
    let html = render_html(&signed, &options()).unwrap();
    for needle in [
        "không ký biên bản",
        "xin ý kiến công ty mẹ",
        "Phạm Văn Tâm",
        "Đại diện UBND phường Lạch Tray",
        "NGƯỜI CHỨNG KIẾN",
    ] {
        assert!(html.contains(needle), "html misses {needle}");
    }
    let pages = pdf_page_texts(&signed, &options()).unwrap();
    let text = pages.concat().join(" ");
    for needle in [
        "xin ý kiến công ty mẹ",
        "Phạm Văn Tâm",
        "NGƯỜI CHỨNG KIẾN",
        "Không ký – xem mục V",
    ] {
        assert!(text.contains(needle), "pdf misses {needle}");
    }
    let pdf = render_pdf(&signed, &b, &options()).unwrap();
    let back = extract_bundle_from_pdf(&pdf).unwrap();
    assert!(matches!(
        decode_canonical(&back.document.0).unwrap().statement,
        Statement::Refused { .. }
    ));
}

#[test]
fn the_pdf_carries_the_bundle_and_verifies_via_verify_file() {
    let f = fixed();
    let (signed, b) = bundle(&f, statement());
    let pdf = render_pdf(&signed, &b, &options()).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(extract_bundle_from_pdf(&pdf).unwrap(), b);
    let report = verify_file(&pdf).unwrap();
    assert!(report.is_valid(), "{report}");
    // Every page carries the hash footer.
    let pages = pdf_page_texts(&signed, &options()).unwrap();
    assert!(pages.len() >= 2);
    for p in &pages {
        assert!(p.iter().any(|l| l.contains(&signed.content_hash().to_hex())));
    }
    assert!(matches!(
        extract_bundle_from_pdf(b"%PDF-1.7 nothing here"),
        Err(MinutesError::NoBundleInPdf)
    ));
}

#[test]
fn minutes_from_a_recorded_inspection() {
    let dir = tempfile::tempdir().unwrap();
    let f = recorded(dir.path());
    let doc = document(&f, statement());
    assert_eq!(doc.members.len(), 3);
    assert!(doc
        .members
        .iter()
        .all(|m| m.key_fingerprint.as_ref().is_some_and(|k| k.len() == 16)));
    assert_eq!(doc.establishment.tax_code.as_deref(), Some("0200123456"));
    let dismissed: Vec<_> = doc.violations.iter().filter(|v| v.dismissed.is_some()).collect();
    assert_eq!(dismissed.len(), 1);
    assert_eq!(dismissed[0].number, 0);
    let standing: Vec<_> = doc.standing_violations().collect();
    assert!(standing.len() >= 3, "B2, B5, E1 and the C1 ratio are violations");
    assert_eq!(
        standing.iter().map(|v| v.number).collect::<Vec<_>>(),
        (1..=standing.len() as u32).collect::<Vec<_>>()
    );
    assert!(standing.iter().all(|v| !v.legal_basis.is_empty()));
    assert!(doc.report_back.is_some());
    let signed = sign_all(&f, doc);
    let b = Bundle::new(&signed, blobs(signed.document()), trusted(&f));
    assert!(verify_bundle(&b).is_complete());
}

#[test]
fn building_refuses_bad_input() {
    let f = fixed();
    let mut info = f.info(statement());
    info.copies = 1;
    assert!(MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, info).is_err());
    let mut info = f.info(statement());
    info.ended_at = t("2025-03-05T07:00:00+07:00");
    assert!(MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, info).is_err());
    let mut snap = f.snapshot.clone();
    snap.record.answers.remove("B1");
    assert!(matches!(
        MinutesDocument::build(&snap, &f.delegation, &f.inspectors, f.info(statement())),
        Err(MinutesError::Incomplete(_))
    ));
    // A drawn signature with a refusal contradicts itself.
    let mut info = f.info(refusal());
    info.representative_signature_png_sha256 = Some(Hash32::sha256(b"x"));
    assert!(MinutesDocument::build(&f.snapshot, &f.delegation, &f.inspectors, info).is_err());
}

/// The non-space characters of `texts`, in order: what line breaking (PDF) and
/// markup (HTML) cannot change, so two renderings of one text compare equal.
fn glyphs<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    texts
        .into_iter()
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The text content of the page's body, without the QR box and the footer
/// (the verification furniture, placed differently in the PDF).
fn html_body_text(html: &str) -> String {
    let body = &html[html.find("<body>").unwrap()..html.find("<div class=\"footer\">").unwrap()];
    let (before, rest) = body.split_at(body.find("<div class=\"qr\">").unwrap());
    let body = format!("{before}{}", &rest[rest.find("<h1>").unwrap()..]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn the_html_and_the_pdf_print_the_same_texts_in_the_same_order() {
    let f = fixed();
    let (signed, _) = bundle(&f, statement());
    let doc = signed.document();
    assert!(
        doc.standing_violations().count() >= 2,
        "a document with violations"
    );
    let texts = minutes_texts(&signed, &options());
    let joined = texts.join("\n");
    for needle in [
        "III. Tồn tại, vi phạm",
        "Căn cứ:",
        "thời hạn: trước ngày",
        "TRƯỞNG ĐOÀN KIỂM TRA",
    ] {
        assert!(joined.contains(needle), "the description misses {needle}");
    }
    let expected = glyphs(texts.iter().map(String::as_str));

    let html = render_html(&signed, &options()).unwrap();
    assert_eq!(glyphs([html_body_text(&html).as_str()]), expected, "html");

    // Each page ends with its footer lines (hash and page number, then the URL).
    let pages = pdf_page_texts(&signed, &options()).unwrap();
    let drawn: Vec<&str> = pages
        .iter()
        .flat_map(|p| p[..p.len() - 2].iter().map(String::as_str))
        .collect();
    assert_eq!(glyphs(drawn), expected, "pdf");
    for p in &pages {
        assert_eq!(p[p.len() - 1], options().qr_url(&signed.content_hash()));
    }
}
