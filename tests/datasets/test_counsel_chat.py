"""CounselChat loader: parsing with attribution fields, real file."""

import zipfile

import pytest

from medai.datasets import counsel_chat
from medai.datasets.registry import verify
from medai.errors import InvalidInput

HEADER = ",questionID,questionTitle,questionText,questionLink,topic,therapistInfo,therapistURL,answerText,upvotes,views,split\n"
ROW = ('0,5,Can I sleep?,I cannot sleep.,https://counselchat.com/questions/sleep,sleep-improvement,'
       '"Ann Lee,  LMFT",https://counselchat.com/therapists/ann-lee,Try a routine.,2,100,train\n')


def test_parse():
    (answer,) = counsel_chat.parse(HEADER + ROW)
    assert (answer.question_id, answer.topic, answer.therapist, answer.upvotes, answer.split) == (
        "5", "sleep-improvement", "Ann Lee, LMFT", 2, "train")


def test_parse_names_bad_rows():
    with pytest.raises(InvalidInput, match="row 2: answerText"):
        counsel_chat.parse(HEADER + ROW.replace("Try a routine.", ""))
    with pytest.raises(InvalidInput, match="missing columns"):
        counsel_chat.parse("questionID,topic\n")


def test_load_reads_the_zip(tmp_path):
    folder = tmp_path / "counsel_chat"
    folder.mkdir()
    with zipfile.ZipFile(folder / counsel_chat.FILE, "w") as archive:
        archive.writestr(counsel_chat.MEMBER, HEADER + ROW)
    assert len(counsel_chat.load(tmp_path)) == 1


@pytest.mark.data
def test_real_counsel_chat(data_dir):
    assert all(verify("counsel_chat", data_dir).values())
    answers = counsel_chat.load(data_dir)
    assert len(answers) == 2012 and len({a.question_id for a in answers}) == 776
    assert {a.split for a in answers} == {"train", "val"} and len({a.topic for a in answers}) >= 25
    assert sum(a.therapist_url.startswith("https://counselchat.com/") for a in answers) > 1900
