import io
import os
import tarfile

import numpy as np
import pytest

import reader
from conftest import ROOT, write_corpus


def test_vocabulary_is_ordered_by_frequency_then_alphabetically():
    words = "b a c a b a <eos> c".split()
    assert reader.build_vocab(words) == {"a": 0, "b": 1, "c": 2, "<eos>": 3}


def test_newlines_become_eos(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text(" the cat \n sat down \n")
    assert reader.read_words(str(path)) == ["the", "cat", "<eos>", "sat", "down", "<eos>"]


def test_blank_line_is_an_eos(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("a\n\nb\n")
    assert reader.read_words(str(path)) == ["a", "<eos>", "<eos>", "b", "<eos>"]


def test_missing_file_message_assumes_no_naming(tmp_path):
    with pytest.raises(reader.UsageError, match="does not exist") as error:
        reader.read_words(str(tmp_path / "corpus.txt"))
    assert "ptb" not in str(error.value)


def test_raw_data_uses_training_vocabulary(tmp_path):
    data = write_corpus(tmp_path, " a b a \n", " b a \n", " a \n")
    train, valid, test, vocab_size = reader.ptb_raw_data(data)
    # a: 2, <eos>: 1, b: 1 -> a=0, <eos>=1 ('<' sorts before 'b'), b=2
    np.testing.assert_array_equal(train, [0, 2, 0, 1])
    np.testing.assert_array_equal(valid, [2, 0, 1])
    np.testing.assert_array_equal(test, [0, 1])
    assert vocab_size == 3


def test_unknown_word_maps_to_unk_and_is_counted(tmp_path):
    data = write_corpus(tmp_path, " a <unk> b \n", " a zebra \n", " b \n")
    _, valid, _, word_to_id, unknown = reader.load_corpus(data)
    assert valid[1] == word_to_id["<unk>"]
    assert unknown == {"valid": 1, "test": 0}


def test_unknown_word_without_unk_is_an_error_naming_it(tmp_path):
    data = write_corpus(tmp_path, " a b \n", " a zebra \n", " b \n")
    with pytest.raises(reader.UsageError, match="zebra"):
        reader.ptb_raw_data(data)


@pytest.mark.parametrize("content, message", [(b"", "empty"), (b"  \n\n", "empty"), (b"\xff\xfe a", "UTF-8")])
def test_bad_files_are_usage_errors(tmp_path, content, message):
    write_corpus(tmp_path, " a b \n", " a \n", " b \n")
    (tmp_path / "ptb.valid.txt").write_bytes(content)
    with pytest.raises(reader.UsageError, match=message):
        reader.ptb_raw_data(str(tmp_path))


def test_a_file_that_cannot_be_read_is_a_usage_error(tmp_path, monkeypatch):
    data = write_corpus(tmp_path, " a b \n", " a \n", " b \n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(reader, "open", refuse, raising=False)  # root reads any file: refuse as for a user
    with pytest.raises(reader.UsageError, match=r"cannot read .*ptb.train.txt \(Permission denied\)"):
        reader.load_corpus(data)


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(reader.UsageError, match="does not exist"):
        reader.ptb_raw_data(str(tmp_path / "nowhere"))
    with pytest.raises(reader.UsageError, match="holds no complete corpus"):
        reader.ptb_raw_data(str(tmp_path))


@pytest.mark.parametrize("naming, pattern", [
    ("ptb", "ptb.{}.txt"), ("plain", "{}.txt"), ("wikitext", "wiki.{}.tokens"),
])
def test_each_naming_loads_the_same_ids(tmp_path, naming, pattern):
    texts = " a <unk> b a \n\n", " b zebra \n", " a \n"
    expected = reader.load_corpus(write_corpus(tmp_path / "reference", *texts))
    data = write_corpus(tmp_path / naming, *texts, pattern=pattern)
    assert reader.corpus_files(data) == (naming, {split: os.path.join(data, pattern.format(split))
                                                  for split in ("train", "valid", "test")})
    loaded = reader.load_corpus(data)
    for ids, expected_ids in zip(loaded[:3], expected[:3]):
        np.testing.assert_array_equal(ids, expected_ids)
        assert ids.dtype == np.int32
    assert loaded[3:] == expected[3:] and loaded[4] == {"valid": 1, "test": 0}


def test_no_complete_naming_names_all_three_and_what_is_missing(tmp_path):
    (tmp_path / "wiki.train.tokens").write_text("a\n")
    (tmp_path / "wiki.test.tokens").write_text("a\n")
    with pytest.raises(reader.UsageError) as error:
        reader.load_corpus(str(tmp_path))
    message = str(error.value)
    for part in ("ptb.{train,valid,test}.txt", " {train,valid,test}.txt", "wiki.{train,valid,test}.tokens",
                 "found wiki.train.tokens, wiki.test.tokens only; missing wiki.valid.tokens",
                 "python reader.py download"):
        assert part in message


def test_mixed_namings_are_refused_listing_the_files_found(tmp_path):
    data = write_corpus(tmp_path, " a \n", " a \n", " a \n", pattern="{}.txt")
    (tmp_path / "ptb.train.txt").write_text("a\n")
    with pytest.raises(reader.UsageError, match="mixes 2 namings") as error:
        reader.corpus_files(data)
    assert "(found ptb.train.txt, train.txt, valid.txt, test.txt)" in str(error.value)


def test_producer_batches_match_the_original():
    raw = np.arange(25)
    batches = list(reader.ptb_producer(raw, batch_size=3, num_steps=2))
    # rows of batch_len = 8: [0..7], [8..15], [16..23]; epoch_size = (8 - 1) // 2 = 3
    assert len(batches) == 3 == reader.epoch_size(25, 3, 2)
    x, y = batches[0]
    np.testing.assert_array_equal(x, [[0, 1], [8, 9], [16, 17]])
    np.testing.assert_array_equal(y, [[1, 2], [9, 10], [17, 18]])
    x, y = batches[2]
    np.testing.assert_array_equal(x, [[4, 5], [12, 13], [20, 21]])
    np.testing.assert_array_equal(y, [[5, 6], [13, 14], [21, 22]])
    assert x.dtype == np.int32 and x.shape == (3, 2)


@pytest.mark.parametrize("num_ids, batch_size, num_steps, expected", [
    (10, 2, 4, 1),   # batch_len 5: one batch of 4 steps, the 5th id is only a target
    (10, 2, 5, 0),   # batch_len 5 leaves no target for a 5-step batch
    (9, 2, 4, 0),    # batch_len 4
    (3, 5, 1, -1),   # fewer ids than rows: no batch at all
])
def test_epoch_size_edges(num_ids, batch_size, num_steps, expected):
    assert reader.epoch_size(num_ids, batch_size, num_steps) == expected
    assert len(list(reader.ptb_producer(np.arange(num_ids), batch_size, num_steps))) == max(expected, 0)


def test_chunks_score_every_id_once():
    raw = np.arange(8)
    chunks = list(reader.ptb_chunks(raw, 3))
    xs = np.concatenate([x[0][w[0] > 0] for x, _, w in chunks])
    ys = np.concatenate([y[0][w[0] > 0] for _, y, w in chunks])
    np.testing.assert_array_equal(xs, raw[:-1])
    np.testing.assert_array_equal(ys, raw[1:])
    np.testing.assert_array_equal(chunks[-1][2], [[1, 0, 0]])


def test_download_without_network_says_where_to_put_files(tmp_path):
    with pytest.raises(reader.UsageError, match="copy ptb.train.txt"):
        reader.download_ptb(str(tmp_path), url="http://127.0.0.1:9/simple-examples.tgz")


def tgz_of(files):
    """A gzipped tar archive, as bytes, of {member name: content}."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@pytest.mark.parametrize("served", ["an html page", "an archive without the ptb files", "a truncated archive",
                                    "ptb files of the wrong content"])
def test_download_of_something_else_is_one_error_and_keeps_what_was_there(tmp_path, served):
    wrong_files = {f"simple-examples/data/{name}": b"not ptb\n" for name in reader.PTB_MD5}
    body = {"an html page": b"<html>Not Found</html>",
            "an archive without the ptb files": tgz_of({"simple-examples/README": b"hello"}),
            "a truncated archive": tgz_of(wrong_files)[:60],
            "ptb files of the wrong content": tgz_of(wrong_files)}[served]
    (tmp_path / "served.tgz").write_bytes(body)
    dest = tmp_path / "ptb"
    dest.mkdir()
    (dest / "ptb.train.txt").write_text("what the user had\n")
    with pytest.raises(reader.UsageError, match="the download is corrupt, try again"):
        reader.download_ptb(str(dest), url=(tmp_path / "served.tgz").as_uri())
    assert os.listdir(dest) == ["ptb.train.txt"]
    assert (dest / "ptb.train.txt").read_text() == "what the user had\n"


def test_download_default_is_next_to_reader_not_the_current_directory(tmp_path, monkeypatch):
    destinations = []
    monkeypatch.setattr(reader, "download_ptb", destinations.append)
    monkeypatch.chdir(tmp_path)
    reader.main(["reader.py", "download"])
    assert destinations == [str(ROOT / "data" / "ptb")] == [reader.DEFAULT_PTB_DIR]


def test_default_data_path_is_ptb_when_fetched_else_the_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "DEFAULT_PTB_DIR", str(tmp_path))
    assert reader.default_data_path() == reader.SAMPLE_DIR == str(ROOT / "data" / "sample")
    write_corpus(tmp_path, " a \n", " a \n", " a \n")
    assert reader.default_data_path() == str(tmp_path)


def test_zipf_corpus_has_the_asked_size_and_a_zipf_vocabulary(tmp_path):
    size = {"vocab": 201, "train": 21000, "valid": 2113, "test": 2120}  # 2,113 and 2,120: not whole lines of 21
    reader.write_zipf_corpus(str(tmp_path), size)
    train, valid, test, word_to_id, unknown = reader.load_corpus(str(tmp_path))
    assert (len(word_to_id), len(train), len(valid), len(test)) == (201, 21000, 2113, 2120)
    assert unknown == {"valid": 0, "test": 0}
    counts = np.bincount(train, minlength=201)
    # P(w_r) ~ 1/(r+1): w0 is the commonest word and about twice as common as w1 (1,000 lines of 20)
    assert word_to_id["w0"] == 0 and 1.6 < counts[word_to_id["w0"]] / counts[word_to_id["w1"]] < 2.4
    assert counts[word_to_id[reader.EOS]] == 1000


def test_zipf_corpus_refuses_a_directory_that_holds_one(tmp_path):
    (tmp_path / "wiki.valid.tokens").write_text("the real one\n")
    with pytest.raises(reader.UsageError, match="already holds wiki.valid.tokens; give a new directory"):
        reader.write_zipf_corpus(str(tmp_path), {"vocab": 11, "train": 100, "valid": 20, "test": 20})
    assert [p.name for p in tmp_path.iterdir()] == ["wiki.valid.tokens"]
    assert (tmp_path / "wiki.valid.tokens").read_text() == "the real one\n"


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()])
def test_a_file_replaced_atomically_stays_as_it_was_when_writing_fails(tmp_path, failure):
    path = tmp_path / "results.json"
    path.write_text("old")
    with pytest.raises(type(failure)):
        with reader.replaced_atomically(str(path)) as f:
            f.write("half of the new")
            raise failure
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"] and path.read_text() == "old"
    with reader.replaced_atomically(str(path)) as f:
        f.write("new")
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"] and path.read_text() == "new"


def test_two_writers_of_one_file_at_once_do_not_share_a_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    monkeypatch.setattr(os, "getpid", lambda: 1)  # a writer in another process...
    first = reader.replaced_atomically(str(path))
    f = first.__enter__()
    f.write("first, ")
    monkeypatch.undo()  # ...and this one, which starts and ends while the first is midway
    with reader.replaced_atomically(str(path)) as g:
        g.write("second")
    assert path.read_text() == "second"
    f.write("complete")
    first.__exit__(None, None, None)
    assert path.read_text() == "first, complete" and os.listdir(tmp_path) == ["results.json"]


def test_zipf_command_needs_a_directory(tmp_path):
    with pytest.raises(SystemExit, match="python reader.py zipf DIR"):
        reader.main(["reader.py", "zipf"])


def test_unigram_perplexity_uses_the_training_frequencies():
    train = np.array([0, 0, 1, 2], np.int32)  # p = 1/2, 1/4, 1/4
    assert reader.unigram_perplexity(train, np.array([0, 1], np.int32)) == pytest.approx(8 ** 0.5)
    assert reader.unigram_perplexity(train, train) == pytest.approx(2 ** 1.5)


def test_real_ptb_sizes(shared_ptb):
    train, valid, test, word_to_id, unknown = reader.load_corpus(shared_ptb)
    assert (len(train), len(valid), len(test), len(word_to_id)) == (929589, 73760, 82430, 10000)
    assert (word_to_id["the"], word_to_id["<unk>"], word_to_id["<eos>"]) == (0, 1, 2)
    assert unknown == {"valid": 0, "test": 0}
    assert reader.unigram_perplexity(train, valid) == pytest.approx(687.03, abs=0.01)
    assert reader.unigram_perplexity(train, test) == pytest.approx(639.30, abs=0.01)
