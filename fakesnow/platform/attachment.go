package platform

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
)

// The Attachment API (/api/now/[v1/]attachment) stores files on records.
//
// Wire details (docs/fidelity.md, "Attachment API"), from ServiceNow's
// Attachment API reference: POST .../file?table_name&table_sys_id&file_name
// with the raw file as body and its type as Content-Type answers 201, the
// metadata in "result" and Location = the file's URL (PySNC's test suite,
// run against real instances, compares Location with
// {instance}/api/now/v1/attachment/{sys_id}/file); GET lists metadata
// (sysparm_query on sys_attachment, sysparm_limit default 1000,
// sysparm_offset); GET /{sys_id} is one record's metadata (404 when it does
// not exist or the caller cannot read it); GET /{sys_id}/file is the file
// with X-Attachment-Metadata; DELETE /{sys_id} answers 204. Metadata values
// are strings; the member set is the reference's.
//
// Files are kept as ServiceNow keeps them: a sys_attachment record and its
// content in sys_attachment_doc (here one base64 chunk per file), so that
// snapshots and restores carry them.

func attachmentTables() []*Table {
	return []*Table{
		{Name: "sys_attachment", Label: "Attachment", DisplayField: "file_name", Fields: []*Field{
			str("file_name", "File name"), str("content_type", "Content type"),
			integer("size_bytes", "Size bytes", ""), integer("size_compressed", "Compressed size", ""),
			boolean("compressed", "Compressed", "true"),
			str("table_name", "Table name"), str("table_sys_id", "Table sys ID"),
			str("image_height", "Image height"), str("image_width", "Image width"),
			str("average_image_color", "Average image color"), str("sys_tags", "Tags"),
		}, ACLRoles: map[Op][]string{OpRead: internal, OpCreate: internal, OpDelete: internal}},
		{Name: "sys_attachment_doc", Label: "Attachment Document", Fields: []*Field{
			ref("sys_attachment", "Attachment", "sys_attachment"), integer("position", "Position", "0"),
			integer("length", "Length", "0"), str("data", "Data"),
		}},
	}
}

// attachmentLink is the URL of an attachment (its file with suffix "/file").
func (i *Instance) attachmentLink(r *http.Request, id, suffix string) string {
	p := "/api/now/"
	if strings.HasPrefix(r.URL.Path, "/api/now/v1/") {
		p += "v1/"
	}
	return i.linkURL + p + "attachment/" + id + suffix
}

// attachmentMetaLocked renders an attachment's metadata in the reference's
// member order.
func (i *Instance) attachmentMetaLocked(r *http.Request, a Record, names bool) object {
	out := object{}
	add := func(k, v string) { out = append(out, member{key: k, str: v}) }
	add("average_image_color", a["average_image_color"])
	add("compressed", a["compressed"])
	add("content_type", a["content_type"])
	if names {
		add("created_by_name", i.fullNameLocked(a["sys_created_by"]))
	}
	add("download_link", i.attachmentLink(r, a["sys_id"], "/file"))
	for _, k := range []string{"file_name", "image_height", "image_width", "size_bytes", "size_compressed", "sys_created_by", "sys_created_on",
		"sys_id", "sys_mod_count", "sys_tags", "sys_updated_by", "sys_updated_on", "table_name", "table_sys_id"} {
		add(k, a[k])
	}
	if names {
		add("updated_by_name", i.fullNameLocked(a["sys_updated_by"]))
	}
	return out
}

func (i *Instance) fullNameLocked(userName string) string {
	if u := i.userByNameLocked(userName); u != nil {
		return u["name"]
	}
	return userName
}

// parentReadableLocked reports whether the caller may read the record an
// attachment hangs on (attachments follow their record's read access).
func (i *Instance) parentReadableLocked(c *Caller, table, id string) bool {
	td := i.tables[table]
	if td == nil {
		return false
	}
	rec, ok := td.rows[id]
	return ok && i.wsAllowedLocked(table) && i.aclAllowsLocked(c, table, OpRead) && i.canSeeRowLocked(c, td.def, rec)
}

func writeAttachmentNotFound(w http.ResponseWriter) {
	// Modelled on the Table API's 404: the reference gives the status only.
	WriteError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
}

func (i *Instance) attachmentList(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	i.mu.RLock()
	defer i.mu.RUnlock()
	td := i.tables["sys_attachment"]
	var page []any
	offset, limit := intParam(q, "sysparm_offset", 0), intParam(q, "sysparm_limit", 1000)
	seen := 0
	for _, a := range i.selectAsLocked(readerFor(c), td, i.bindQueryLocked(c, nameValueQuery(q, td.def))) {
		if !i.parentReadableLocked(c, a["table_name"], a["table_sys_id"]) {
			continue
		}
		if seen >= offset && len(page) < limit {
			page = append(page, i.attachmentMetaLocked(r, a, false))
		}
		seen++
	}
	if page == nil {
		page = []any{}
	}
	WriteResult(w, http.StatusOK, page)
}

func (i *Instance) attachmentUpload(w http.ResponseWriter, r *http.Request, c *Caller) {
	q := r.URL.Query()
	table, parent, name := q.Get("table_name"), q.Get("table_sys_id"), q.Get("file_name")
	ctype := r.Header.Get("Content-Type")
	if table == "" || parent == "" || name == "" || ctype == "" {
		// The reference: 400 when a mandatory parameter is missing; the
		// wording is modelled.
		WriteError(w, http.StatusBadRequest, "Missing parameters", "table_name, table_sys_id, file_name and a Content-Type header are required")
		return
	}
	content, err := io.ReadAll(io.LimitReader(r.Body, i.attachmentMaxBytes()+1))
	if err != nil {
		WriteBodyError(w, r, err)
		return
	}
	i.storeAttachment(w, r, c, table, parent, name, ctype, content)
}

// PropAttachmentMaxSize bounds an uploaded file, in megabytes ("Configure
// the com.glide.attachment.max_size property to control the maximum size
// (in megabytes) permitted for an uploaded attachment", ServiceNow,
// "Maximum allowed attachment size"). Unset, the fake's bound is its
// request body limit.
const PropAttachmentMaxSize = "com.glide.attachment.max_size"

// attachmentMaxBytes is the largest file an upload may store.
func (i *Instance) attachmentMaxBytes() int64 {
	limit := i.maxBody
	if mb, err := strconv.ParseInt(strings.TrimSpace(i.Property(PropAttachmentMaxSize)), 10, 64); err == nil && mb >= 0 && mb < limit>>20 {
		limit = mb << 20
	}
	return limit
}

// storeAttachment saves content on the record table/parent for c and
// answers the upload, or the refusal.
func (i *Instance) storeAttachment(w http.ResponseWriter, r *http.Request, c *Caller, table, parent, name, ctype string, content []byte) {
	if limit := i.attachmentMaxBytes(); int64(len(content)) > limit {
		// Modelled: the instance's wording for a file over the limit is
		// not documented (docs/fidelity.md).
		WriteError(w, http.StatusBadRequest, "Exception while reading request",
			fmt.Sprintf("The attachment is larger than the maximum allowed attachment size (%d bytes).", limit))
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if !i.parentReadableLocked(c, table, parent) {
		writeAttachmentNotFound(w)
		return
	}
	// "Any roles required to read and write records on the target table"
	// (the reference's role requirements).
	if !i.aclAllowsLocked(c, table, OpWrite) || !i.aclAllowsLocked(c, "sys_attachment", OpCreate) {
		WriteError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Insert Failed due to security constraints")
		return
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(content)
	_ = zw.Close()
	a, err := i.insertLocked("sys_attachment", map[string]string{"file_name": name, "content_type": ctype, "table_name": table, "table_sys_id": parent,
		"size_bytes": strconv.Itoa(len(content)), "size_compressed": strconv.Itoa(gz.Len()), "compressed": "true"}, c.UserName, "", false)
	if err != nil {
		writeStoreError(w, err)
		return
	}
	if _, err := i.insertLocked("sys_attachment_doc", map[string]string{"sys_attachment": a["sys_id"], "position": "0",
		"length": strconv.Itoa(len(content)), "data": base64.StdEncoding.EncodeToString(content)}, c.UserName, "", false); err != nil {
		writeStoreError(w, err)
		return
	}
	w.Header().Set("Location", i.attachmentLink(r, a["sys_id"], "/file"))
	WriteResult(w, http.StatusCreated, i.attachmentMetaLocked(r, a, true))
}

// Multipart upload limits: the form fields before the file are metadata
// (table_name, table_sys_id), so each is small; a form has few of them.
const (
	maxMultipartFieldBytes = 1024
	maxMultipartFields     = 16
)

// attachmentMultipart is POST /attachment/upload: "The multipart POST
// method does not accept any parameters. You must specify the table name
// and record sys_id values within the form body"; "ensure that the file
// content is contained in the final part of the message only. Earlier
// parts should contain only metadata"; "The Content-Type must be defined
// within the file portion of the POST message" (Attachment API
// reference). The file part is the first part with a file name; parts
// after it are not read.
func (i *Instance) attachmentMultipart(w http.ResponseWriter, r *http.Request, c *Caller) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		WriteError(w, http.StatusBadRequest, "Bad Request", "Content-Type must be multipart/form-data with a boundary")
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields := map[string]string{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			WriteError(w, http.StatusBadRequest, "Missing parameters", "the form has no file part")
			return
		}
		if err != nil {
			i.writeMultipartError(w, r, err)
			return
		}
		if n >= maxMultipartFields {
			WriteError(w, http.StatusBadRequest, "Bad Request", "too many form fields before the file part")
			return
		}
		if part.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(part, maxMultipartFieldBytes+1))
			if err != nil {
				i.writeMultipartError(w, r, err)
				return
			}
			if len(v) > maxMultipartFieldBytes {
				WriteError(w, http.StatusBadRequest, "Bad Request", "form field "+part.FormName()+" is too long")
				return
			}
			fields[part.FormName()] = string(v)
			continue
		}
		ctype := part.Header.Get("Content-Type")
		table, parent := fields["table_name"], fields["table_sys_id"]
		if table == "" || parent == "" || ctype == "" {
			WriteError(w, http.StatusBadRequest, "Missing parameters", "table_name and table_sys_id form fields before the file, and the file part's Content-Type, are required")
			return
		}
		content, err := io.ReadAll(io.LimitReader(part, i.attachmentMaxBytes()+1))
		if err != nil {
			i.writeMultipartError(w, r, err)
			return
		}
		i.storeAttachment(w, r, c, table, parent, part.FileName(), ctype, content)
		return
	}
}

// writeMultipartError answers a body that is too large as every API does,
// and a malformed form with 400.
func (i *Instance) writeMultipartError(w http.ResponseWriter, r *http.Request, err error) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		WriteBodyError(w, r, err)
		return
	}
	WriteError(w, http.StatusBadRequest, "Bad Request", "The multipart form is malformed")
}

// attachmentLocked finds an attachment the caller may read.
func (i *Instance) attachmentLocked(c *Caller, id string) (Record, bool) {
	a, ok := i.tables["sys_attachment"].rows[id]
	if !ok || !i.parentReadableLocked(c, a["table_name"], a["table_sys_id"]) {
		return nil, false
	}
	return a, true
}

func (i *Instance) attachmentRecord(w http.ResponseWriter, r *http.Request, c *Caller) {
	id := mux.Vars(r)["sys_id"]
	if r.Method == http.MethodDelete {
		i.mu.Lock()
		defer i.mu.Unlock()
		a, ok := i.attachmentLocked(c, id)
		if !ok {
			writeAttachmentNotFound(w)
			return
		}
		if !i.aclAllowsLocked(c, a["table_name"], OpWrite) {
			WriteError(w, http.StatusForbidden, "Operation Failed", "ACL Exception Delete Failed due to security constraints")
			return
		}
		docs := i.tables["sys_attachment_doc"]
		for _, did := range append([]string(nil), docs.order...) {
			if docs.rows[did]["sys_attachment"] == id {
				_ = i.deleteLocked("sys_attachment_doc", did)
			}
		}
		_ = i.deleteLocked("sys_attachment", id)
		noCache(w.Header())
		w.WriteHeader(http.StatusNoContent)
		return
	}
	i.mu.RLock()
	defer i.mu.RUnlock()
	a, ok := i.attachmentLocked(c, id)
	if !ok {
		writeAttachmentNotFound(w)
		return
	}
	WriteResult(w, http.StatusOK, i.attachmentMetaLocked(r, a, false))
}

func (i *Instance) attachmentFile(w http.ResponseWriter, r *http.Request, c *Caller) {
	id := mux.Vars(r)["sys_id"]
	i.mu.RLock()
	defer i.mu.RUnlock()
	a, ok := i.attachmentLocked(c, id)
	if !ok {
		writeAttachmentNotFound(w)
		return
	}
	var content []byte
	docs := i.tables["sys_attachment_doc"]
	for _, did := range docs.order {
		if d := docs.rows[did]; d["sys_attachment"] == id {
			b, _ := base64.StdEncoding.DecodeString(d["data"])
			content = append(content, b...)
		}
	}
	meta, _ := json.Marshal(i.attachmentMetaLocked(r, a, false))
	h := w.Header()
	noCache(h)
	h.Set("Content-Type", a["content_type"])
	h.Set("X-Attachment-Metadata", string(meta))
	h.Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(content)
}
