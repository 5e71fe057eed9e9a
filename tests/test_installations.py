"""Our copies of slack_sdk's installation tables match what its stores read and write."""

from __future__ import annotations

import pytest
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, Table

from storage import installations

WIDENED = {("slack_installations", c) for c in installations.TOKEN_COLUMNS["slack_installations"]} | {
    ("slack_bots", c) for c in installations.TOKEN_COLUMNS["slack_bots"]
}


def theirs() -> dict[str, Table]:
    metadata = MetaData()
    return {
        "slack_installations": SQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations"),
        "slack_bots": SQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots"),
        "slack_oauth_states": SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states"),
    }


def shape(table: Table, name: str) -> tuple[str, int | None, bool, bool]:
    column = table.columns[name]
    return type(column.type).__name__, getattr(column.type, "length", None), column.nullable, column.primary_key


@pytest.mark.parametrize("name", ["slack_installations", "slack_bots", "slack_oauth_states"])
def test_same_columns_types_and_nullability_as_slack_sdk(name: str) -> None:
    sdk, ours = theirs()[name], installations.slack_metadata.tables[name]
    assert list(ours.columns.keys()) == list(sdk.columns.keys())
    for column in [c.name for c in sdk.columns]:
        expected = shape(sdk, column)
        if (name, column) in WIDENED:
            assert expected[1] == 200
            expected = (expected[0], installations.TOKEN_CIPHERTEXT_LENGTH, *expected[2:])
        assert shape(ours, column) == expected, column
    assert {i.name: [c.name for c in i.columns] for i in ours.indexes} == {
        i.name: [c.name for c in i.columns] for i in sdk.indexes
    }


def test_the_widened_token_columns_hold_the_ciphertext_of_a_long_token() -> None:
    from cryptography.fernet import Fernet

    longest = "xoxe.xoxb-1-" + "x" * 600
    assert len(Fernet(Fernet.generate_key()).encrypt(longest.encode())) <= installations.TOKEN_CIPHERTEXT_LENGTH
