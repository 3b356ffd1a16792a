"""The shared remote store: the local store's objects on S3-compatible object storage.

Layout under ``s3://<bucket>/<prefix>/`` (:mod:`modelpm.s3url`)::

    modelpm-remote.json                 the format marker, written once by the first push
    objects/<algorithm>/<2 hex>/<hex>   one object per locked hash, the file's exact bytes

Nothing else is ever written under the prefix. The bucket is untrusted: it is
read through the transfer engine like any origin (:mod:`.origin`), so every
byte is verified against the lock on arrival; it is written only with local
objects re-hashed while they are uploaded (:mod:`.push`), with a conditional
put or a multipart upload that is completed only after the hash matched, so
no key ever holds bytes that do not match its name unless someone else put
them there. Reading needs only the standard library (requests are signed here,
:mod:`.sigv4`); writing, listing and deleting go through ``obstore``, imported
only by :mod:`.client`.
"""
