// Package national is the national-interface gateway (医保信息平台 定点医药机构
// 接口, ../shared/spec/GATEWAY.md): HIS systems built for the national
// medical-security platform post its JSON envelopes over HTTP and settle
// with medsettle unchanged. It is a second face of the same server: every
// settlement rule, access check, audit record and limit is the gRPC API's,
// reached in-process through Services; the gateway only translates the
// envelope, keeps visits and fee details (store.VisitStore), and checks the
// provinces' signatures.
package national
