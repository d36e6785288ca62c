/* shdict_list.c: the list values of a shared dict (lpush, rpush, lpop, rpop, llen), as
 * ngx_lua 0.10.23 has them: a list item holds its first and last element; each element is
 * its own allocation, linked both ways. Pushing never evicts; popping the last element
 * removes the item. */
#include "shdict_int.h"

static shd_list_t list_of(shdict_t *d, shd_ref_t r)
{
    shd_list_t l;
    shd_blob_io(d, r, shd_item_value_off(shd_item(d, r)), &l, sizeof l, SHD_IO_READ);
    return l;
}

static void set_list(shdict_t *d, shd_ref_t r, shd_list_t l)
{
    shd_blob_io(d, r, shd_item_value_off(shd_item(d, r)), &l, sizeof l, SHD_IO_WRITE);
}

static void link_elem(shdict_t *d, shd_ref_t r, shd_ref_t e, int left)
{
    shd_list_t l = list_of(d, r);
    shd_elem_t *el = shd_elem(d, e);
    if (left) {
        el->prev = 0;
        el->next = l.first;
        if (l.first) shd_elem(d, l.first)->prev = e;
        else l.last = e;
        l.first = e;
    } else {
        el->prev = l.last;
        el->next = 0;
        if (l.last) shd_elem(d, l.last)->next = e;
        else l.first = e;
        l.last = e;
    }
    set_list(d, r, l);
    shd_item(d, r)->vlen++;
}

static void unlink_elem(shdict_t *d, shd_ref_t r, shd_ref_t e)
{
    shd_list_t l = list_of(d, r);
    shd_elem_t *el = shd_elem(d, e);
    if (el->prev) shd_elem(d, el->prev)->next = el->next;
    else l.first = el->next;
    if (el->next) shd_elem(d, el->next)->prev = el->prev;
    else l.last = el->prev;
    set_list(d, r, l);
    shd_item(d, r)->vlen--;
}

/* The list item to push to: the valid list, or a new or emptied one for a missing or
 * expired key (an expired list is reused empty and made permanent, as ngx_lua); 0 with *rc. */
static shd_ref_t list_for_push(shdict_t *d, const char *key, size_t klen, uint64_t h, int64_t now, int *rc)
{
    shd_ref_t r;
    int found = shd_lookup(d, key, klen, h, now, &r), forcible;
    *rc = SHD_NOT_LIST;
    if (found == SHD_VALID) return shd_item(d, r)->type == SHD_TLIST ? r : 0;
    if (found == SHD_EXPIRED && shd_item(d, r)->type == SHD_TLIST) {
        shd_free_elems(d, r);
        shd_item(d, r)->expires = 0;
        return r;
    }
    if (found == SHD_EXPIRED) shd_item_remove(d, r);
    *rc = SHD_NO_MEMORY;
    return shd_item_new(d, key, klen, h, SHD_TLIST, sizeof(shd_list_t), 0, now, &forcible);
}

static int push_locked(shdict_t *d, const char *key, size_t klen, uint64_t h, int left, int type, const char *p,
                       size_t n, int64_t now, size_t *len)
{
    int rc;
    shd_expire_tail(d, 1, now);
    shd_ref_t r = list_for_push(d, key, klen, h, now, &rc);
    if (!r) return rc;
    shd_ref_t e = n <= UINT32_MAX - SHD_ELEM_HDR ? shd_alloc(d, SHD_ELEM_HDR + n) : 0;
    if (!e) {
        if (shd_item(d, r)->vlen == 0) shd_item_remove(d, r); /* no empty list left behind */
        return SHD_NO_MEMORY;
    }
    shd_elem_t *el = shd_elem(d, e);
    el->len = (uint32_t)n;
    el->type = (uint8_t)type;
    shd_blob_io(d, e, SHD_ELEM_HDR, (void *)p, n, SHD_IO_WRITE);
    link_elem(d, r, e, left);
    *len = shd_item(d, r)->vlen;
    return SHD_OK;
}

int shdict_push(shdict_t *d, const char *key, size_t klen, int left, int type, const char *str, size_t slen,
                double num, int64_t now_ms, size_t *len)
{
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    if (type == SHD_TNUMBER) str = (const char *)&num, slen = sizeof num;
    else if (type != SHD_TSTRING) return SHD_INVALID; /* "bad value type" */
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    int rc = push_locked(d, key, klen, h, left, type, str, slen, now_ms, len);
    shd_unlock(d);
    return rc;
}

static int pop_locked(shdict_t *d, const char *key, size_t klen, uint64_t h, int left, int64_t now, int *type,
                      char **str, size_t *slen, double *num)
{
    shd_ref_t r;
    shd_expire_tail(d, 1, now);
    if (shd_lookup(d, key, klen, h, now, &r) != SHD_VALID) return SHD_NOT_FOUND;
    if (shd_item(d, r)->type != SHD_TLIST) return SHD_NOT_LIST;
    shd_list_t l = list_of(d, r);
    shd_ref_t e = left ? l.first : l.last;
    shd_elem_t *el = shd_elem(d, e);
    int rc = shd_read_value(d, e, SHD_ELEM_HDR, el->type, el->len, str, slen, num);
    if (rc != SHD_OK) return rc;
    *type = el->type;
    if (shd_item(d, r)->vlen == 1) {
        shd_item_remove(d, r); /* the list is gone with its last element */
        return SHD_OK;
    }
    unlink_elem(d, r, e);
    shd_free(d, e);
    return SHD_OK;
}

int shdict_pop(shdict_t *d, const char *key, size_t klen, int left, int64_t now_ms, int *type, char **str,
               size_t *slen, double *num)
{
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    int rc = pop_locked(d, key, klen, h, left, now_ms, type, str, slen, num);
    shd_unlock(d);
    return rc;
}

int shdict_llen(shdict_t *d, const char *key, size_t klen, int64_t now_ms, size_t *len)
{
    shd_ref_t r;
    int rc = SHD_OK;
    if (klen == 0 || klen > UINT16_MAX) return SHD_INVALID;
    uint64_t h = shd_hash(d, key, klen);
    shd_lock(d);
    shd_expire_tail(d, 1, now_ms);
    *len = 0;
    if (shd_lookup(d, key, klen, h, now_ms, &r) == SHD_VALID) {
        if (shd_item(d, r)->type != SHD_TLIST) rc = SHD_NOT_LIST;
        else *len = shd_item(d, r)->vlen;
    }
    shd_unlock(d);
    return rc;
}
