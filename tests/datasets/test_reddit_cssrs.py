"""Reddit C-SSRS loader: parsing (including cells cut at 32,759 characters), user split, real file.

Posts are never printed: assertions check counts and labels only.
"""

import zipfile

import pytest

from medai.datasets import reddit_cssrs
from medai.datasets.registry import verify
from medai.errors import InvalidInput

CSV = ('User,Post,Label\n'
       'user-0,"[\'first post\', \'second, with comma\']",Supportive\n'
       'user-1,"[\'only post\']",Ideation\n'
       'user-2,"[\'kept post\', \'cut off in the mid",Attempt\n')


def test_parse_lists_and_truncated_cells():
    users = reddit_cssrs.parse(CSV)
    assert [(u.user, len(u.posts), u.label, u.at_risk) for u in users] == [
        ("user-0", 2, "Supportive", False), ("user-1", 1, "Ideation", True), ("user-2", 1, "Attempt", True)]
    assert users[0].posts[1] == "second, with comma" and users[2].posts == ("kept post",)


def test_parse_names_bad_rows():
    with pytest.raises(InvalidInput, match="row 2: Label"):
        reddit_cssrs.parse('User,Post,Label\nu,"[\'x\']",Unknown\n')
    with pytest.raises(InvalidInput, match="header"):
        reddit_cssrs.parse("User,Text\n")


def test_split_is_by_user_stratified_and_deterministic():
    users = [reddit_cssrs.RedditUser(f"user-{i}", ("p",), reddit_cssrs.LABELS[i % 5]) for i in range(40)]
    train, validation = reddit_cssrs.split(users)
    assert reddit_cssrs.split(users) == (train, validation)
    assert len(validation) == 10 and not {u.user for u in train} & {u.user for u in validation}
    assert sorted(u.label for u in validation) == sorted(reddit_cssrs.LABELS * 2)


def test_load_reads_the_zip(tmp_path):
    folder = tmp_path / "reddit_cssrs_suicidality"
    folder.mkdir()
    with zipfile.ZipFile(folder / reddit_cssrs.FILE, "w") as archive:
        archive.writestr(reddit_cssrs.MEMBER, CSV)
    assert len(reddit_cssrs.load(tmp_path)) == 3


@pytest.mark.data
def test_real_reddit_cssrs(data_dir):
    assert all(verify("reddit_cssrs", data_dir).values())
    users = reddit_cssrs.load(data_dir)
    counts = {label: sum(u.label == label for u in users) for label in reddit_cssrs.LABELS}
    assert counts == {"Supportive": 86, "Indicator": 79, "Ideation": 137, "Behavior": 62, "Attempt": 36}
    assert all(u.posts for u in users) and sum(len(u.posts) for u in users) == 7283
    train, validation = reddit_cssrs.split(users)
    assert len(validation) == 101 and sum(u.at_risk for u in validation) == 59
