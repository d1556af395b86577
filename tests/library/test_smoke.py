from app.library import Library


def test_add_then_list(library: Library, make_image) -> None:
    import io

    rec = library.add(io.BytesIO(make_image()), "a.jpg", alt_text="x")
    assert library.list().items == [rec]
