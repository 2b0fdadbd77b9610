package national

import (
	"context"
	"encoding/json"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

func init() { register("1101", personInfo) }

// personInput is 1101's input.
type personInput struct {
	Data *struct {
		MdtrtCertType text `json:"mdtrt_cert_type"`
		MdtrtCertNo   text `json:"mdtrt_cert_no"`
		CardSn        text `json:"card_sn"`
		Begntime      text `json:"begntime"`
		PsnCertType   text `json:"psn_cert_type"`
		Certno        text `json:"certno"`
		PsnName       text `json:"psn_name"`
	} `json:"data"`
}

// personOutput is 1101's output.
type personOutput struct {
	Baseinfo baseinfo   `json:"baseinfo"`
	Insuinfo []insuinfo `json:"insuinfo"`
	Idetinfo []idetinfo `json:"idetinfo"`
}

type baseinfo struct {
	PsnNo       string `json:"psn_no"`
	PsnCertType string `json:"psn_cert_type"`
	Certno      string `json:"certno"`
	PsnName     string `json:"psn_name"`
	Gend        string `json:"gend"`
	Naty        string `json:"naty"`
	Brdy        string `json:"brdy"`
	Age         int    `json:"age"`
}

type insuinfo struct {
	Balc          Amount `json:"balc"`
	Insutype      string `json:"insutype"`
	PsnType       string `json:"psn_type"`
	PsnInsuStas   string `json:"psn_insu_stas"`
	PsnInsuDate   string `json:"psn_insu_date"`
	PausInsuDate  string `json:"paus_insu_date"`
	CvlservFlag   string `json:"cvlserv_flag"`
	InsuplcAdmdvs string `json:"insuplc_admdvs"`
	EmpName       string `json:"emp_name"`
}

type idetinfo struct {
	PsnIdetType string `json:"psn_idet_type"`
	PsnTypeLv   string `json:"psn_type_lv"`
	Memo        string `json:"memo"`
	Begntime    string `json:"begntime"`
	Endtime     string `json:"endtime"`
}

// personInfo is 1101 (人员信息获取): the person whose person_id is
// mdtrt_cert_no (or, when that is empty or names nobody, certno), as
// RegistryService.GetPerson answers it. Fields the registry does not hold
// are "" (0 for age); psn_cert_type "01" and certno the person_id.
// idetinfo lists the categories held today (Asia/Shanghai) that have a
// psn_idet_type: a dated identity with its dates as begntime
// "YYYY-MM-DD 00:00:00" and endtime "YYYY-MM-DD 23:59:59"; the undated
// category (held on every date) with both empty.
func personInfo(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	var in personInput
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	if in.Data == nil {
		return nil, refuse("缺少 input.data：请传入 data{mdtrt_cert_type, mdtrt_cert_no, certno, …}")
	}
	var ids []string
	for i, id := range []text{in.Data.MdtrtCertNo, in.Data.Certno} {
		if id != "" && (len(ids) == 0 || ids[0] != string(id)) {
			if err := requireID([]string{"mdtrt_cert_no", "certno"}[i], id); err != nil {
				return nil, err
			}
			ids = append(ids, string(id))
		}
	}
	if len(ids) == 0 {
		return nil, refuse("缺少 mdtrt_cert_no 和 certno：请传入就诊凭证编号或证件号码（人员编号）")
	}
	var p *pb.Person
	for _, id := range ids {
		resp, err := g.svc.GetPerson(ctx, &pb.GetPersonRequest{PersonId: id})
		if status.Code(err) == codes.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		p = resp.GetPerson()
		break
	}
	if p == nil {
		return nil, refuse("人员不存在：mdtrt_cert_no / certno 未找到参保人员，请核对证件号码")
	}
	c.AuditPerson(p.GetPersonId())
	balc, err := engine.ParseMoney(p.GetAccountBalance())
	if p.GetAccountBalance() == "" {
		balc, err = engine.Money{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("person %s account balance: %w", p.GetPersonId(), err)
	}
	out := personOutput{
		Baseinfo: baseinfo{PsnNo: p.GetPersonId(), PsnCertType: "01", Certno: p.GetPersonId(), PsnName: p.GetName()},
		Insuinfo: []insuinfo{{Balc: Amount(balc), Insutype: insutypeOf(p.GetScheme()), PsnInsuStas: "1", CvlservFlag: "0",
			InsuplcAdmdvs: p.GetRegion()}},
		Idetinfo: heldIdentities(p, c.Today()),
	}
	return out, nil
}

// heldIdentities are the categories p holds on today (YYYY-MM-DD) that
// have a psn_idet_type, the undated category first.
func heldIdentities(p *pb.Person, today string) []idetinfo {
	out := []idetinfo{}
	if code := idetTypeOf(p.GetCategory()); code != "" {
		out = append(out, idetinfo{PsnIdetType: code})
	}
	for _, id := range p.GetIdentities() {
		code := idetTypeOf(id.GetCategory())
		// ISO dates compare as strings.
		if code == "" || id.GetValidFrom() > today || id.GetValidTo() < today {
			continue
		}
		out = append(out, idetinfo{PsnIdetType: code, Begntime: id.GetValidFrom() + " 00:00:00", Endtime: id.GetValidTo() + " 23:59:59"})
	}
	return out
}
