"""File metadata conformance: the same assertions on SQLite and PostgreSQL (see conftest.METADATA)."""

from __future__ import annotations

import asyncio

import pytest

from plumego.x.data.file import DuplicateFileError, FileQuery, FileRecord, InvalidTenantError, MetadataStore


def rec(n: int, tenant: str = "acme", **kw: object) -> FileRecord:
    fields: dict[str, object] = dict(id=f"{n:032x}", tenant_id=tenant, name=f"f{n}.txt", path=f"{tenant}/{n:032x}",
                                     size=n, mime_type="text/plain", sha256=f"{n:064x}", created_at=1000.0 + n,
                                     updated_at=1000.0 + n)
    fields.update(kw)
    return FileRecord(**fields)  # type: ignore[arg-type]


async def test_save_get_tenant_isolation(metadata: MetadataStore) -> None:
    record = rec(1, metadata={"k": "v"}, uploaded_by="ada", width=3, height=4, thumbnail_path="t.png")
    await metadata.save(record)
    assert await metadata.get("acme", record.id) == record
    assert await metadata.get("other", record.id) is None             # another tenant never sees it
    assert await metadata.get_by_hash("acme", record.sha256) == record
    assert await metadata.get_by_hash("other", record.sha256) is None
    assert await metadata.get_by_path(record.path) == record
    assert await metadata.get("acme", "f" * 32) is None


async def test_duplicates_refused(metadata: MetadataStore) -> None:
    await metadata.save(rec(1))
    with pytest.raises(DuplicateFileError):
        await metadata.save(rec(1))                                      # same id
    with pytest.raises(DuplicateFileError):
        await metadata.save(rec(2, sha256=f"{1:064x}"))                  # same live content, same tenant
    await metadata.save(rec(3, tenant="other", sha256=f"{1:064x}", path="other/x"))   # other tenant: fine


async def test_concurrent_twins_one_wins(metadata: MetadataStore) -> None:
    twins = [rec(n, sha256="a" * 64) for n in range(10, 16)]
    results = await asyncio.gather(*(metadata.save(r) for r in twins), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DuplicateFileError) for r in results if r is not None)


async def test_soft_delete_touch_and_purge(metadata: MetadataStore) -> None:
    record = rec(1)
    await metadata.save(record)
    await metadata.touch("acme", record.id, 5000.0)
    touched = await metadata.get("acme", record.id)
    assert touched is not None and touched.last_access_at == 5000.0
    assert await metadata.delete("other", record.id) is False
    assert await metadata.delete("acme", record.id, at=6000.0) is True
    assert await metadata.delete("acme", record.id) is False             # already deleted
    assert await metadata.get("acme", record.id) is None
    assert await metadata.get_by_hash("acme", record.sha256) is None
    hidden = await metadata.get("acme", record.id, include_deleted=True)
    assert hidden is not None and hidden.deleted_at == 6000.0
    await metadata.save(rec(2, sha256=record.sha256))                    # the same bytes may come back
    assert [r.id for r in await metadata.list_all()] == [rec(2).id]
    assert len(await metadata.list_all(include_deleted=True)) == 2
    assert await metadata.purge("acme", record.id) is True
    assert await metadata.get("acme", record.id, include_deleted=True) is None


async def test_list_filters_order_and_paging(metadata: MetadataStore) -> None:
    for n in range(1, 8):
        await metadata.save(rec(n, mime_type="image/png" if n % 2 else "text/plain",
                                uploaded_by="ada" if n <= 3 else "bob"))
    await metadata.save(rec(50, tenant="other"))
    await metadata.delete("acme", rec(7).id)
    page = await metadata.list(FileQuery(tenant_id="acme", page_size=4))
    assert page.total == 6 and page.total_pages == 2 and [r.size for r in page.items] == [6, 5, 4, 3]
    page2 = await metadata.list(FileQuery(tenant_id="acme", page=2, page_size=4))
    assert [r.size for r in page2.items] == [2, 1]
    assert page2.to_json()["total_page"] == 2
    by_mime = await metadata.list(FileQuery(tenant_id="acme", mime_type="image/png", order_by="size"))
    assert [r.size for r in by_mime.items] == [1, 3, 5]
    family = await metadata.list(FileQuery(tenant_id="acme", mime_type="image/*", order_by="size"))
    assert [r.size for r in family.items] == [1, 3, 5]
    assert [r.size for r in (await metadata.list(FileQuery(tenant_id="acme", uploaded_by="bob",
                                                           order_by="name"))).items] == [4, 5, 6]
    window = await metadata.list(FileQuery(tenant_id="acme", start_time=1002.0, end_time=1005.0, order_by="size"))
    assert [r.size for r in window.items] == [2, 3, 4]                  # end exclusive
    assert (await metadata.list(FileQuery(tenant_id="nobody"))).total == 0


@pytest.mark.parametrize("bad", [dict(page=0), dict(page_size=0), dict(page_size=101), dict(order_by="id; drop"),
                                 dict(tenant_id="../x"), dict(tenant_id=""), dict(tenant_id="..")])
def test_bad_queries_refused(bad: dict[str, object]) -> None:
    args: dict[str, object] = {"tenant_id": "acme", **bad}
    with pytest.raises((ValueError, InvalidTenantError)):
        FileQuery(**args)  # type: ignore[arg-type]
